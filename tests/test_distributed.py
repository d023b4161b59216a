"""The tf.distribute path on CPU: one step on 1 vs 2 replicas (two logical CPU devices) gives the same result;
TF_CONFIG parsing, `inpaint cluster-config` and the helpers of inpaint/runtime/distribute.py.

Logical devices must be set before TensorFlow touches a device, so the replica test runs in a fresh
interpreter. Two real worker processes are in tests/test_multi_worker.py.
"""
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from inpaint.errors import ConfigError
from inpaint.run_folder import CHECKPOINTS
from inpaint.runtime import distribute

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from inpaint import config
    from inpaint.gan import build_gan

    # Batch norm and dropout are set per replica; keep them out so the two runs compute the same thing.
    cfg = config.preset("lite").replace(image_size=(32, 32), gen_depth=3, gen_dropout=0.0, gen_norm="none",
                                        disc_norm="none", batch_size=8)
    rng = np.random.default_rng(0)
    white = rng.uniform(-1, 1, (8, 32, 32, 1)).astype("float32")
    real = rng.uniform(-1, 1, (8, 32, 32, 1)).astype("float32")
    mask = np.zeros((8, 32, 32, 1), "float32"); mask[:, 16:24, 8:24] = 1
    white = np.where(mask > 0, 1.0, real).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((white, real, mask)).batch(8)

    def one_step(strategy, weights):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            gan = build_gan(cfg)
            # Plain SGD: unlike Adam, its step is proportional to the gradient, so a sum over
            # replicas instead of a mean would show as a doubled update.
            gan.compile(g_optimizer=keras.optimizers.SGD(1.0), d_optimizer=keras.optimizers.SGD(1.0))
            if weights is not None:
                gan.generator.set_weights(weights[0]); gan.discriminator.set_weights(weights[1])
            start = (gan.generator.get_weights(), gan.discriminator.get_weights())
            logs = gan.fit(ds, epochs=1, verbose=0).history
        return start, {k: v[0] for k, v in logs.items()}, gan.generator.get_weights()

    start, one, w1 = one_step(tf.distribute.get_strategy(), None)
    two_strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    _, two, w2 = one_step(two_strategy, start)
    diff = max(float(np.abs(a - b).max()) for a, b in zip(w1, w2))
    moved = max(float(np.abs(a - b).max()) for a, b in zip(start[0], w1))
    print(json.dumps({"replicas": two_strategy.num_replicas_in_sync, "one": one, "two": two,
                      "weight_diff": diff, "weight_moved": moved}))
    print("diff", diff, "moved", moved, file=sys.stderr)
    """
)


@pytest.mark.slow
def test_one_step_on_two_replicas_matches_one_replica():
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=root, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    for name in ("G_GAN", "G_L1", "D_real", "D_fake", "rmse"):
        assert abs(result["one"][name] - result["two"][name]) <= 1e-4 * max(1.0, abs(result["one"][name])), name
    # The update matches: gradients were averaged, not summed, across replicas.
    assert result["weight_moved"] > 1e-4
    assert result["weight_diff"] < 1e-3 * result["weight_moved"]


# ---------------------------------------------------------------- cluster description, cluster-config, helpers


def tf_config(workers, task_type="worker", index=0):
    return {"TF_CONFIG": json.dumps({"cluster": {task_type if task_type == "chief" else "worker": workers},
                                     "task": {"type": task_type, "index": index}})}


def test_no_tf_config_means_one_worker_that_is_the_chief():
    cluster = distribute.cluster_from_env({})
    assert (cluster.workers, cluster.is_chief, cluster.is_multi_worker) == (1, True, False)


def test_worker_0_is_the_chief_and_worker_1_is_not():
    workers = ["a:1", "b:2"]
    first = distribute.cluster_from_env(tf_config(workers, index=0))
    second = distribute.cluster_from_env(tf_config(workers, index=1))
    assert (first.workers, first.is_chief, first.is_multi_worker) == (2, True, True)
    assert (second.workers, second.is_chief, second.name) == (2, False, "worker 1")


def test_a_chief_task_is_the_chief_and_counts_as_a_worker():
    env = {"TF_CONFIG": json.dumps({"cluster": {"chief": ["a:1"], "worker": ["b:2", "c:3"]},
                                    "task": {"type": "worker", "index": 0}})}
    assert distribute.cluster_from_env(env).workers == 3
    assert not distribute.cluster_from_env(env).is_chief  # with a chief task, worker 0 is an ordinary worker
    env["TF_CONFIG"] = env["TF_CONFIG"].replace('"type": "worker"', '"type": "chief"')
    assert distribute.cluster_from_env(env).is_chief


@pytest.mark.parametrize("text, fragment", [
    ("{not json", "not valid cluster JSON"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}', "task worker 3 is not in"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "task ps 0 is not in"),
])
def test_a_malformed_tf_config_is_a_config_error_that_says_what_is_wrong(text, fragment):
    with pytest.raises(ConfigError, match=fragment):
        distribute.cluster_from_env({"TF_CONFIG": text})


def test_cluster_config_prints_the_tf_config_each_worker_reads_back(run_cli):
    for index in (0, 1):
        code, out, err = run_cli("cluster-config", "--workers", "pc1:2222, pc2:2223", "--index", index)
        assert code == 0 and err == ""
        config = json.loads(out)
        assert config == {"cluster": {"worker": ["pc1:2222", "pc2:2223"]}, "task": {"type": "worker", "index": index}}
        cluster = distribute.cluster_from_env({"TF_CONFIG": out})
        assert (cluster.workers, cluster.task_index, cluster.is_chief) == (2, index, index == 0)


def test_cluster_config_export_prints_a_shell_line(run_cli):
    code, out, _ = run_cli("cluster-config", "--workers", "pc1:2222,pc2:2222", "--index", "1", "--export")
    assert code == 0
    assert out.strip() == """export TF_CONFIG='{"cluster":{"worker":["pc1:2222","pc2:2222"]},"task":{"type":"worker","index":1}}'"""


@pytest.mark.parametrize("workers, index, fragment", [
    ("pc1:2222,pc2", 0, "'pc2' is not host:port"),
    ("pc1:2222,pc2:99999", 0, "'pc2:99999' is not host:port"),
    ("pc1:2222,pc1:2222", 0, "pc1:2222 listed twice"),
    (" , ", 0, "give host:port of every worker"),
    ("pc1:2222,pc2:2222", 2, "--index 2: must be between 0 and 1"),
])
def test_cluster_config_rejects_bad_workers_with_one_line_and_exit_2(run_cli, workers, index, fragment):
    code, out, err = run_cli("cluster-config", "--workers", workers, "--index", index)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and fragment in err


def test_the_global_batch_must_split_evenly_over_the_replicas():
    distribute.check_global_batch(8, 2)
    with pytest.raises(ConfigError, match="batch_size 6 does not split over 4 replicas"):
        distribute.check_global_batch(6, 4)


def test_a_non_chief_writes_a_temporary_folder_that_is_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(distribute.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    chief = distribute.WriteFolder(tmp_path / "run", distribute.Cluster(workers=2, task_index=0))
    other = distribute.WriteFolder(tmp_path / "run", distribute.Cluster(workers=2, task_index=1))
    assert chief.path == tmp_path / "run"
    assert other.path.parent == tmp_path / "tmp" and other.path.is_dir()
    (other.path / "checkpoints").mkdir()
    other.remove_temporary()
    chief.remove_temporary()
    assert not other.path.exists() and list((tmp_path / "tmp").iterdir()) == []


def test_alone_the_stop_decision_is_the_local_clock():
    decide = distribute.ChiefDecides(strategy=None, cluster=distribute.Cluster())
    assert decide(True) is True and decide(False) is False


def test_a_lost_worker_message_names_the_cause_what_is_kept_and_what_to_do(tmp_path):
    class FakeError(Exception):
        message = ("Graph execution error:\n\nDetected at node CollectiveReduceV2 defined at (most recent call last):\n"
                   '  File "train.py", line 3\n\nSocket closed\n\t [[{{node CollectiveReduceV2}}]] [Op:__inference_step]')

    text = distribute.peer_failure_message(FakeError(), distribute.Cluster(workers=2), tmp_path / "run" / CHECKPOINTS, 3)
    assert text == (f"worker 0: another worker of the cluster died or stopped answering, so the job stopped "
                    f"(FakeError: Socket closed). The last checkpoint (epoch 3) is kept in {tmp_path / 'run' / 'checkpoints'}; "
                    "restart every worker with --resume")


def test_a_worker_resuming_without_the_chiefs_run_folder_is_told_to_share_or_copy_it(tmp_path):
    other = distribute.Cluster(workers=2, task_index=1)
    with pytest.raises(ConfigError, match="worker 1: --resume restores the chief's run folder .* copy the chief's"):
        distribute.check_resume_source(tmp_path / "run" / CHECKPOINTS, other, resume=True)
    distribute.check_resume_source(tmp_path / "run" / CHECKPOINTS, other, resume=False)  # a fresh run needs nothing here
    (tmp_path / "run" / CHECKPOINTS).mkdir(parents=True)
    distribute.check_resume_source(tmp_path / "run" / CHECKPOINTS, other, resume=True)


def test_the_watchdog_fires_once_after_the_timeout_without_a_step_and_not_while_steps_finish():
    import time

    from inpaint.runtime.watchdog import StepWatchdog

    fired = []
    watchdog = StepWatchdog(timeout=0.5, on_timeout=fired.append, poll_seconds=0.05)
    watchdog.on_train_begin()
    for _ in range(10):  # a step every 0.1 s for 1 s: twice the timeout in all, never idle for long
        time.sleep(0.1)
        watchdog.on_train_batch_end(0)
    assert fired == [] and not watchdog.fired
    time.sleep(1.0)  # no step: the watchdog fires after ~0.5 s, once
    watchdog.on_train_end()
    assert len(fired) == 1 and watchdog.fired
    assert re.fullmatch(r"no training step finished for \d+ s \(--collective-timeout 0.5\): a worker hangs or is gone",
                        fired[0])


def test_a_collective_timeout_must_be_positive_and_alone_there_is_no_watchdog():
    assert distribute.watchdogs(distribute.Cluster(), None) == []
    assert len(distribute.watchdogs(distribute.Cluster(workers=2), 30)) == 1
    with pytest.raises(ConfigError, match="--collective-timeout 0: must be > 0"):
        distribute.watchdogs(distribute.Cluster(workers=2), 0)
