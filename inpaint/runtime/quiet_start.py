"""Start TensorFlow without its start-up chatter, and say in one line what it found.

Importing TensorFlow 2.21 on a machine without a GPU writes seven lines to stderr, the first
three of them twice (two shared libraries log them), including
`E0000 ... cuda_platform.cc:52] failed call to cuInit: ... UNKNOWN ERROR (303)`, which reads like
a failure to a student who needs no GPU. They come from C++ before TF_CPP_MIN_LOG_LEVEL is read,
so the only way to hide them is below Python: file descriptor 2 is pointed at a temporary file
while TensorFlow is imported and its devices are listed, and afterwards every line that is not
one of the known notices below is written back to stderr, so real errors stay visible.

`install()` hooks the first `import tensorflow` or `import keras` of the process, wherever it
happens, so every command that needs TensorFlow gets the same start and commands that do not
(check-data, score, ...) still start in about a second.
"""
from __future__ import annotations

import contextlib
import faulthandler
import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import tempfile

# A glog line: severity and date, time, thread id, then "file.cc:LINE] message".
_GLOG = r"^[IWE]\d{4} [\d:.]+\s+\d+ "

# Each pattern matches one notice seen when importing TensorFlow 2.21 on a CPU-only machine
# (`python -m inpaint demo`, before this filter existed); tests/test_quiet_start.py holds the lines.
HARMLESS_NOTICES = tuple(re.compile(p) for p in (
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$",
    _GLOG + r"port\.cc:\d+\] oneDNN custom operations are on\. ",
    _GLOG + r"cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine, GPU will not be used\.$",
    # No GPU (or no driver): the device line printed instead says "CPU only (no GPU found)".
    _GLOG + r"cuda_platform\.cc:\d+\] failed call to cuInit: ",
    # Shown only when TF_CPP_MIN_LOG_LEVEL is below 2; a two-line notice.
    _GLOG + r"cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized to use available CPU instructions",
    r"^To enable the following instructions: .*, in other operations, rebuild TensorFlow with the appropriate "
    r"compiler flags\.$",
))

_HOOKED_MODULES = ("tensorflow", "keras")


def is_harmless(line: str) -> bool:
    return any(p.search(line) for p in HARMLESS_NOTICES)


def drop_harmless(text: str) -> str:
    """`text` without the lines that are known start-up notices (line endings kept)."""
    return "".join(line for line in text.splitlines(keepends=True) if not is_harmless(line.rstrip("\r\n")))


@contextlib.contextmanager
def filtered_stderr():
    """Send file descriptor 2 to a temporary file for the block, then replay what is not harmless.

    Replayed even when the block raises, so an import error's own messages are never lost.
    A temporary file rather than a pipe: a pipe nobody reads blocks the writer once it is full.
    A crash inside the block (an illegal instruction on a CPU TensorFlow was not built for) takes
    the captured lines with it; faulthandler then at least says where, on the real stderr.
    """
    with tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        saved = os.dup(2)
        own_faulthandler = not faulthandler.is_enabled()  # leave one that is on (pytest's) as it is
        try:
            if own_faulthandler:
                faulthandler.enable(file=saved)
            os.dup2(capture.fileno(), 2)
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            if own_faulthandler:
                faulthandler.disable()
            os.close(saved)
            capture.seek(0)
            kept = drop_harmless(capture.read().decode("utf-8", errors="replace"))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def device_line(tf) -> str:
    """'TensorFlow 2.21.0, CPU only (no GPU found)' or 'TensorFlow 2.21.0, 1 GPU: NAME'."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return f"TensorFlow {tf.__version__}, CPU only (no GPU found)"
    names = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
    return f"TensorFlow {tf.__version__}, {len(gpus)} GPU{'s' if len(gpus) > 1 else ''}: {', '.join(names)}"


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of tensorflow (or keras) inside filtered_stderr, then lists the devices."""

    def __init__(self, real):
        self.real = real

    def create_module(self, spec):
        return self.real.create_module(spec)

    def exec_module(self, module):
        # The module keeps its own loader: nothing of this hook stays behind after the import.
        module.__spec__.loader = module.__loader__ = self.real
        with filtered_stderr():
            self.real.exec_module(module)
            tf = sys.modules.get("tensorflow")  # keras imports it; another keras backend would not
            line = device_line(tf) if tf is not None and hasattr(tf, "config") else None
        if line:
            print(line, file=sys.stderr)


class _FirstTensorFlowImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name not in _HOOKED_MODULES:
            return None
        uninstall()  # one import is enough: keras's own `import tensorflow` runs inside ours
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _NoRetracingWarnings(logging.Filter):
    """Drops TensorFlow's "N out of the last M calls to <function ...> triggered tf.function retracing" warnings.

    Each generator the kit builds to predict (best, last, averaged checkpoints: compare-predictions
    builds six) traces Keras's predict function once, as it must; TensorFlow counts those traces
    together and prints a paragraph about a loop that is not there."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


_RETRACING_FILTER = _NoRetracingWarnings()


def install(verbose: bool = False) -> None:
    """Filter TensorFlow's start-up messages and retracing warnings in this process, unless `verbose` asks
    for all of them."""
    uninstall()
    tf_logger = logging.getLogger("tensorflow")  # the logger TensorFlow's Python warnings go through
    if verbose:
        tf_logger.removeFilter(_RETRACING_FILTER)
        return
    tf_logger.addFilter(_RETRACING_FILTER)  # once: a filter already there is not added twice
    if any(name in sys.modules for name in _HOOKED_MODULES):
        return  # too late to hide the start-up lines
    # Hides the C++ messages that do read the level (cpu_feature_guard, per-op info lines).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.meta_path.insert(0, _FirstTensorFlowImport())


def uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _FirstTensorFlowImport)]
