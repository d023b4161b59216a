"""TensorFlow's start-up notices are hidden at the file-descriptor level; anything else still reaches stderr."""
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from inpaint.runtime import quiet_start

# Written to stderr by `python -m inpaint demo` (TensorFlow 2.21, 2-core CPU, no GPU) before the filter
# existed, plus the two-line CPU-instructions notice that `import tensorflow` prints at TF_CPP_MIN_LOG_LEVEL 0.
REAL_NOTICES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795649920.589829    8701 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders. "
    "To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.",
    "I0000 00:00:1795649920.590215    8701 cudart_stub.cc:31] Could not find cuda drivers on your machine, "
    "GPU will not be used.",
    "E0000 00:00:1795649926.631266    8701 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
    "Failed call to cuInit: UNKNOWN ERROR (303)",
    "I0000 00:00:1795650213.878477   19623 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use "
    "available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 FMA, in other operations, "
    "rebuild TensorFlow with the appropriate compiler flags.",
]
REAL_ERROR = "E0000 00:00:1795649926.700000    8701 direct_session.cc:99] Not found: libcudnn.so.9: cannot open file"
REPO = Path(__file__).resolve().parents[1]
DEVICE_LINE = re.compile(r"^TensorFlow \d+\.\d+\.\d+\S*, (CPU only \(no GPU found\)|\d+ GPUs?: .+)$")


def python(code: str, **env) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter (its own file descriptor 2), from the repository."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **env}, timeout=300)


@pytest.mark.parametrize("line", REAL_NOTICES, ids=lambda line: line.split("]")[0][-24:])
def test_each_real_start_up_notice_is_dropped(line):
    assert quiet_start.is_harmless(line)
    assert quiet_start.drop_harmless(line + "\n") == ""


def test_unknown_lines_are_kept_in_order_among_dropped_notices():
    text = "\n".join([REAL_NOTICES[0], "first real line", *REAL_NOTICES[1:3], REAL_ERROR, REAL_NOTICES[3]]) + "\n"
    assert quiet_start.drop_harmless(text) == f"first real line\n{REAL_ERROR}\n"


def test_notice_text_inside_another_message_is_kept():
    line = "ValueError: could not find cuda drivers on your machine, GPU will not be used."
    assert not quiet_start.is_harmless(line)


def test_fd_level_writes_are_filtered_and_unknown_ones_replayed():
    """C++ code writes to file descriptor 2 directly, not through sys.stderr: the filter works below Python."""
    notices = "".join(line + "\n" for line in REAL_NOTICES).encode()
    done = python(f"""
        import os, sys
        from inpaint.runtime.quiet_start import filtered_stderr
        with filtered_stderr():
            os.write(2, {notices!r})
            os.write(2, b"a real problem the user must see\\n")
            print("written through sys.stderr", file=sys.stderr)
        os.write(2, b"after the block\\n")
        print("stdout untouched")
    """)
    assert done.returncode == 0
    assert done.stderr == "a real problem the user must see\nwritten through sys.stderr\nafter the block\n"
    assert done.stdout == "stdout untouched\n"


def test_what_was_written_before_an_exception_is_still_replayed():
    done = python("""
        import os
        from inpaint.runtime.quiet_start import filtered_stderr
        with filtered_stderr():
            os.write(2, b"oneDNN-free message from a failing import\\n")
            raise ImportError("libtensorflow_framework.so.2: cannot open shared object file")
    """)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0] == "oneDNN-free message from a failing import"
    assert lines[-1] == "ImportError: libtensorflow_framework.so.2: cannot open shared object file"


@pytest.mark.slow
def test_first_keras_import_prints_one_device_line_and_leaves_no_hook_behind():
    done = python("""
        import sys
        from inpaint.runtime import quiet_start
        quiet_start.install()
        import keras
        import tensorflow as tf
        print(type(tf.__spec__.loader).__name__, type(keras.__loader__).__name__)
        print(any(isinstance(f, quiet_start._FirstTensorFlowImport) for f in sys.meta_path))
    """, TF_CPP_MIN_LOG_LEVEL="0")  # the level does not hide these notices; the filter must
    assert done.returncode == 0, done.stderr
    assert DEVICE_LINE.match(done.stderr.strip()), done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert done.stdout.split() == ["SourceFileLoader", "SourceFileLoader", "False"]


def test_verbose_installs_no_filter():
    """In a fresh interpreter: in this one TensorFlow may be imported already, and install() then hooks nothing anyway."""
    done = python("""
        import sys
        from inpaint.runtime import quiet_start
        hooked = lambda: any(isinstance(f, quiet_start._FirstTensorFlowImport) for f in sys.meta_path)
        quiet_start.install()
        print(hooked())
        quiet_start.install(verbose=True)
        print(hooked())
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]


def test_a_crash_inside_the_block_still_says_where_on_the_real_stderr():
    """An abort (TensorFlow on a CPU without the instructions it was built for) cannot replay; faulthandler reports it."""
    done = python("""
        import os
        from inpaint.runtime.quiet_start import filtered_stderr
        with filtered_stderr():
            os.abort()
    """)
    assert done.returncode != 0
    assert "Fatal Python error: Aborted" in done.stderr
    assert 'line 5 in <module>' in done.stderr


@pytest.mark.slow
def test_a_python_user_of_the_kits_functions_sees_one_device_line_and_no_retracing_warnings():
    """The notebook API's functions that start TensorFlow cover its start-up notices and the retracing
    paragraphs that predicting with several generators triggers (compare-predictions builds six), as the
    command line does; INPAINT_VERBOSE=1 shows them again."""
    code = """
        import inpaint
        from inpaint.errors import UserError
        try:
            inpaint.predict("no run here", None)  # starts TensorFlow (the predicting module), then refuses the folder
        except UserError:
            print("refused")
        import keras
        import numpy as np
        for _ in range(8):  # a new model each time, as compare-predictions loads one generator per variant
            model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
            model.predict(np.zeros((2, 4)), verbose=0)
        print("predicted")
    """
    done = python(code, TF_CPP_MIN_LOG_LEVEL="0")
    assert done.returncode == 0 and done.stdout.split() == ["refused", "predicted"], done.stdout + done.stderr
    assert DEVICE_LINE.match(done.stderr.strip()) and len(done.stderr.splitlines()) == 1, done.stderr
    loud = python(code, INPAINT_VERBOSE="1")
    assert "triggered tf.function retracing" in loud.stderr  # the case above did trigger them


def test_importing_the_kit_is_quick_starts_no_tensorflow_and_hooks_no_import():
    done = python("""
        import sys, time
        hooks = list(sys.meta_path)
        start = time.perf_counter()
        import inpaint
        took = time.perf_counter() - start
        heavy = sorted(m for m in ("tensorflow", "keras", "numpy", "pandas", "cv2") if m in sys.modules)
        print(heavy, took < 1.0, sys.meta_path == hooks)
    """)
    assert done.returncode == 0 and done.stdout.strip() == "[] True True", done.stdout + done.stderr
