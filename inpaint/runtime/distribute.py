"""Training on several machines: strategy choice, the chief's role, and how a cluster stops together.

One command trains on a laptop or a cluster. The standard TF_CONFIG environment variable decides:
  - TF_CONFIG lists more than one worker  -> MultiWorkerMirroredStrategy (synchronous all-reduce);
  - several local GPUs                    -> MirroredStrategy;
  - otherwise                             -> the default strategy (one device).

Only the chief (the task "chief", or worker 0 when there is none) writes the run folder; the
other workers write to temporary folders that are deleted at the end, as TensorFlow's
multi-worker checkpointing guide describes (they still run every save, since saving may
all-reduce sync-on-read variables). The wall-clock budget is the chief's alone: every step the
chief's "stop now" flag is summed over all workers, so all of them stop after the same step and
none waits in a collective for a peer that has left.

TensorFlow is imported inside the functions that need it, so `inpaint cluster-config` starts fast.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

# runtime/ imports no module of the training core: the error from the base, which inpaint.errors re-exports
from submission.errors import ConfigError

# Seconds a worker may go without finishing a step before it stops the job (inpaint/runtime/watchdog.py).
# It must cover the slowest worker's first step, which includes tracing the train step; a worker
# whose process died is noticed sooner (closed sockets, or the strategy's health check of peers).
DEFAULT_COLLECTIVE_TIMEOUT = 300.0


@dataclass(frozen=True)
class Cluster:
    """Who this process is in the job that TF_CONFIG describes (one worker when it is unset)."""

    workers: int = 1
    task_type: str = "worker"
    task_index: int = 0
    has_chief_task: bool = False

    @property
    def is_chief(self) -> bool:
        # With no "chief" task in the cluster spec, worker 0 plays the chief (TensorFlow's convention).
        if self.has_chief_task:
            return self.task_type == "chief"
        return self.task_type == "worker" and self.task_index == 0

    @property
    def is_multi_worker(self) -> bool:
        return self.workers > 1

    @property
    def name(self) -> str:
        return f"{self.task_type} {self.task_index}"


def cluster_from_env(environ=None) -> Cluster:
    """Parse TF_CONFIG; a malformed one is a ConfigError naming what is wrong."""
    text = (os.environ if environ is None else environ).get("TF_CONFIG", "").strip()
    if not text:
        return Cluster()
    try:
        spec = json.loads(text)
        jobs = spec.get("cluster", {})
        task = spec.get("task", {})
        task_type, task_index = task.get("type", "worker"), int(task.get("index", 0))
        workers = sum(len(jobs.get(job, [])) for job in ("chief", "worker"))
    except (ValueError, AttributeError, TypeError) as exc:
        raise ConfigError(f"TF_CONFIG is not valid cluster JSON ({exc}); make it with `inpaint cluster-config`") from None
    if task_type not in ("chief", "worker") or not 0 <= task_index < len(jobs.get(task_type, [])):
        raise ConfigError(f"TF_CONFIG: task {task_type} {task_index} is not in its cluster {jobs}")
    return Cluster(workers=workers, task_type=task_type, task_index=task_index, has_chief_task=bool(jobs.get("chief")))


def parse_workers(text: str) -> list[str]:
    """'host1:port,host2:port' -> ['host1:port', 'host2:port'], each checked."""
    workers = [w.strip() for w in text.split(",") if w.strip()]
    if not workers:
        raise ConfigError("--workers: give host:port of every worker, separated by commas")
    for worker in workers:
        host, sep, port = worker.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"--workers: {worker!r} is not host:port with a port in 1..65535")
    repeated = sorted({w for w in workers if workers.count(w) > 1})
    if repeated:
        raise ConfigError(f"--workers: {', '.join(repeated)} listed twice; every worker needs its own host:port")
    return workers


def tf_config(workers: list[str], index: int) -> dict:
    """The TF_CONFIG of worker `index` in a cluster of `workers` (worker 0 is the chief)."""
    if not 0 <= index < len(workers):
        raise ConfigError(f"--index {index}: must be between 0 and {len(workers) - 1} for {len(workers)} workers")
    return {"cluster": {"worker": list(workers)}, "task": {"type": "worker", "index": index}}


def make_strategy(cluster: Cluster):
    """The strategy for this machine and cluster; create it before any other TensorFlow op runs."""
    import tensorflow as tf

    if cluster.is_multi_worker:
        # Blocks until every worker of TF_CONFIG has started. No per-collective timeout here: see
        # inpaint/runtime/watchdog.py for why a watchdog bounds the wait instead.
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def watchdogs(cluster: Cluster, collective_timeout: float | None) -> list:
    """The callbacks that stop a worker left waiting for a hung or lost peer (none when alone)."""
    timeout = DEFAULT_COLLECTIVE_TIMEOUT if collective_timeout is None else collective_timeout
    if timeout <= 0:
        raise ConfigError(f"--collective-timeout {timeout:g}: must be > 0 seconds, or a lost worker could hang the job")
    if not cluster.is_multi_worker:
        return []
    from inpaint.runtime.watchdog import StepWatchdog

    return [StepWatchdog(timeout)]


def describe(strategy, cluster: Cluster) -> dict:
    """What state.json and the start-up line say about the strategy."""
    import tensorflow as tf

    # Public names: MultiWorkerMirroredStrategy's class is CollectiveAllReduceStrategy.
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        name = "MultiWorkerMirroredStrategy"
    elif isinstance(strategy, tf.distribute.MirroredStrategy):
        name = "MirroredStrategy"
    else:
        name = "default"
    return {"strategy": name, "replicas": int(strategy.num_replicas_in_sync),
            "workers": cluster.workers}


def check_global_batch(batch_size: int, replicas: int) -> None:
    """The config's batch is the global batch: each replica takes an equal share of it."""
    if batch_size % replicas:
        raise ConfigError(
            f"batch_size {batch_size} does not split over {replicas} replicas; use a multiple of {replicas} "
            "(the batch is the global one, the same recipe on one machine or many)"
        )


def distribute_input(dataset, cluster: Cluster):
    """Shard by data: every worker builds the same global batches and keeps its own slice of each.

    Why by data and not by file or an explicit shard(index): the pairs are in memory (no files to
    split), and the stream is a pure function of (seed, epoch), so each global step sees exactly
    the images a single-worker run of the same config sees; resume restarts it at the same epoch
    on every worker. The cost, augmenting every pair on every worker, is small next to a GAN step.
    """
    import tensorflow as tf

    if not cluster.is_multi_worker:
        return dataset
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


class WriteFolder:
    """The folder this worker writes: the run folder on the chief, a temporary one elsewhere."""

    def __init__(self, run: Path, cluster: Cluster):
        self.run, self.cluster = Path(run), cluster
        if cluster.is_chief:
            self.path = self.run
        else:
            self.path = Path(tempfile.mkdtemp(prefix=f"inpaint-{cluster.task_type}{cluster.task_index}-"))

    def remove_temporary(self) -> None:
        if self.path != self.run:
            shutil.rmtree(self.path, ignore_errors=True)


class ChiefDecides:
    """Makes a yes/no the chief's decision on every worker: one all-reduce of a flag.

    Every worker must call it at the same steps (it is a collective); only the chief's flag counts.
    """

    def __init__(self, strategy, cluster: Cluster):
        self.strategy, self.cluster = strategy, cluster
        self._sum_over_workers = None

    def __call__(self, chief_says: bool) -> bool:
        if not self.cluster.is_multi_worker:
            return chief_says
        import tensorflow as tf

        if self._sum_over_workers is None:
            # A tf.function: run eagerly, the strategy warns of overhead on every call.
            @tf.function
            def sum_over_workers(flag):
                per_replica = self.strategy.run(tf.identity, args=(flag,))
                return self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

            self._sum_over_workers = sum_over_workers
        flag = 1.0 if (chief_says and self.cluster.is_chief) else 0.0
        return float(self._sum_over_workers(tf.constant(flag))) > 0


def is_peer_failure(exc: BaseException) -> bool:
    """A collective failed because a peer died, stopped answering, or the cluster aborted."""
    import tensorflow as tf

    return isinstance(exc, (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.CancelledError,
                            tf.errors.AbortedError, tf.errors.InternalError))


def start_line(strategy, cluster: Cluster, written: Path) -> str:
    """The first line of a training run: which strategy, how many replicas, where this worker writes."""
    facts = describe(strategy, cluster)
    line = f"strategy: {facts['strategy']}, {facts['replicas']} replica(s)"
    if cluster.is_multi_worker:
        role = "the chief" if cluster.is_chief else f"writing to a temporary folder {written}, removed at the end"
        line += f" on {cluster.workers} workers; this is {cluster.name}, {role}"
    return line


def peer_failure_message(exc: BaseException, cluster: Cluster, checkpoints: Path, epochs_done: int) -> str:
    """One line for a job a lost worker brought down: what happened, what is kept (in `checkpoints`, the run
    folder's checkpoint folder), what to do."""
    cause = _root_cause(getattr(exc, "message", None) or str(exc))
    return (f"{cluster.name}: another worker of the cluster died or stopped answering, so the job stopped "
            f"({type(exc).__name__}: {cause}). The last checkpoint (epoch {epochs_done}) is kept in "
            f"{checkpoints}; restart every worker with --resume")


def adapt_fit_to_multi_worker(model) -> None:
    """Two work-arounds that let Keras 3's `fit` run a built model under MultiWorkerMirroredStrategy.

    1. Under a strategy, fit first reduces one distributed batch to build the model symbolically;
       with several workers that reduce fails on a tuple of per-replica tensors ("unsupported type
       PerReplica"; keras-team/keras#20585 and #20329 report it). The kit's GAN is built before fit
       (G and D arrive built, compile takes no Keras loss or metric): nothing to build, so skip it.
    2. fit averages each step's logs over the workers with reduce(MEAN, axis=0), which rejects the
       scalar logs a train_step returns; logs of shape [1] average to the same scalar. Each replica
       holds an equal share of the global batch, so the mean of the replicas' mean losses is the
       global batch's mean loss (the logged RMSE is the mean of the replicas' RMSEs).
    """
    import tensorflow as tf

    if not model.built:
        raise RuntimeError("adapt_fit_to_multi_worker needs a built model")
    model._maybe_symbolic_build = lambda *args, **kwargs: None

    def as_vectors(step):
        return lambda data: {name: tf.reshape(value, [1]) for name, value in step(data).items()}

    model.train_step, model.test_step = as_vectors(model.train_step), as_vectors(model.test_step)


def _root_cause(message: str) -> str:
    """The status line of a TensorFlow error ("Socket closed"), not its "Graph execution error:" header
    or the Python stack of the op that was running."""
    lines = [re.sub(r"\{\{.*?\}\}", "", line.split("[[")[0]).strip() for line in message.splitlines()
             if line.strip() and not line.startswith((" ", "\t"))]
    lines = [line for line in lines if line and not line.startswith(("Graph execution error", "Detected at node"))]
    cause = lines[0] if lines else message.strip()
    return cause.split("Collective ops is aborted by: ")[-1][:300]


def check_resume_source(checkpoints: Path, cluster: Cluster, resume: bool) -> None:
    """A worker other than the chief resumes from the chief's run folder (`checkpoints` is its checkpoint
    folder, run_folder.CHECKPOINTS): say so when it is not here."""
    if resume and not cluster.is_chief and not Path(checkpoints).is_dir():
        raise ConfigError(
            f"{cluster.name}: --resume restores the chief's run folder {Path(checkpoints).parent}, which is not on "
            "this machine; "
            "use a shared folder for --run or copy the chief's run folder here first"
        )
