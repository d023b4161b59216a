"""The kit as a notebook (Jupyter, Colab, Kaggle) calls it; `inpaint/__init__.py` lists it in its docstring.

Every function here is a thin door to the same code the `inpaint` command runs, so a notebook and
the command line train, predict, write and check the same way. Nothing is imported at the top
but the standard library: `import inpaint` stays quick and TensorFlow starts with the first
function that needs it: each function here that can start it first installs the quiet start
(inpaint/runtime/quiet_start.py: one line about the device instead of TensorFlow's notices), as the
command line does; importing the package installs nothing.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # names for the signatures only
    import numpy as np

    from inpaint.config import Config
    from inpaint.data import Dataset
    from submission.scoring import ScoreResult
    from submission.validate import Verdict


def _quiet_tensorflow() -> None:
    """Before a function that may start TensorFlow: its start-up notices become one device line
    (INPAINT_VERBOSE=1 shows them all). Does nothing once TensorFlow has started."""
    import os

    from inpaint.runtime import quiet_start

    quiet_start.install(verbose=bool(os.environ.get("INPAINT_VERBOSE")))


def load_data(folder, size=(128, 128), pair_by_order: bool = False, mask_threshold: float | None = None,
              mask_grow: int = 1) -> "Dataset":
    """Check a data folder against data_spec.md and read it (what `inpaint check-data` does).

    Returns a Dataset (`.train_real`, `.train_white`, `.test_white`, ... with `.names` and
    `.images` in [0, 1]); a notebook shows what it holds. A broken folder raises a DataError that
    lists every problem. `size`, `mask_threshold` and `mask_grow` are the config keys image_size,
    mask_threshold and mask_grow of a run trained on it (`train` takes them from the data set); the
    threshold defaults to the mask finder's (0.94).
    """
    from inpaint.data import load_data as load
    from inpaint.masks import DEFAULT_THRESHOLD

    return load(Path(folder), size=tuple(size), by_order=pair_by_order, mask_grow=mask_grow,
                mask_threshold=DEFAULT_THRESHOLD if mask_threshold is None else mask_threshold)


def make_config(preset: str = "standard", **overrides) -> "Config":
    """The training config: a preset ('lite', 'standard', 'large') with keys changed, e.g.
    `make_config("standard", batch_size=16, ema_decay=0.0)`. Each key and its type are checked.

    Without `seed=` a seed is drawn for this config, as `inpaint train` draws one without --seed: with
    one fixed seed classmates' honest runs would be identical, which the copy flags cannot tell from
    copies. `train` prints it and saves it in the run's config.toml; `seed=N` repeats a run."""
    from inpaint import config

    cfg = config.from_dict(overrides, config.preset(preset))
    return cfg if "seed" in overrides else config.with_drawn_seed(cfg)


def with_budget(cfg: "Config", epochs: int | None = None, steps: int | None = None,
                minutes: float | None = None) -> "Config":
    """`cfg` with the budgets that are given; a time or step budget alone trains until it is used up
    (the epoch count then says nothing, and the progress lines show the budget given instead)."""
    from inpaint.config import UNTIL_BUDGET

    changes = {k: v for k, v in (("epochs", epochs), ("steps", steps), ("minutes", minutes)) if v is not None}
    if (minutes or steps) and epochs is None:
        changes["epochs"] = UNTIL_BUDGET
    return cfg.replace(**changes) if changes else cfg


class PngImage:
    """A PNG that a notebook shows inline (`_repr_png_`), without touching pyplot's figures."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def _repr_png_(self) -> bytes:
        return self.path.read_bytes()

    def __repr__(self) -> str:
        return f"PngImage({str(self.path)!r})"


class Run:
    """A run folder (`inpaint train` writes it): its config, state, log, loss curves and sample grids."""

    def __init__(self, folder):
        from inpaint.run_folder import load_config

        self.folder = Path(folder)
        self.config = load_config(self.folder)  # "not a run folder" is a clear error

    @property
    def state(self) -> dict:
        """state.json: epochs done, steps, best validation RMSE and its epoch, why training stopped."""
        from inpaint.run_folder import read_state

        return read_state(self.folder)

    @property
    def log(self):
        """log.csv as a pandas DataFrame, one row per epoch (counted from 1)."""
        from inpaint.run_folder import read_log

        return read_log(self.folder)

    def plot_losses(self) -> PngImage:
        """The G and D losses and the validation RMSE per epoch (RUN/losses.png), shown inline."""
        from inpaint.reporting.curves import loss_figure

        path = self.folder / "losses.png"
        loss_figure(self.log, path)
        return PngImage(path)

    def show_samples(self) -> PngImage:
        """Validation faces (White | prediction | Real | error) from the generator kept as the best."""
        _quiet_tensorflow()
        from inpaint.reporting.report import samples_shown

        grid, caption = samples_shown(self.folder, self.config, self.state)
        if grid is None:
            from inpaint.errors import UserError

            raise UserError(f"{self.folder}: no sample grid yet; train at least one epoch")
        print(f"from {caption}")
        return PngImage(grid)

    def report(self, answers=None) -> Path:
        """RUN/report/ (report.md, report.html, plots, architecture): the base of the write-up."""
        _quiet_tensorflow()
        from inpaint.reporting.report import write_report

        return write_report(self.folder, Path(answers) if answers else None)

    @property
    def warning(self) -> str | None:
        """The warning training printed when the generator a submission would use is NOT better than the
        classical fill (state.json's classical_check); None when it is, or before the check."""
        _quiet_tensorflow()
        from inpaint.prediction import classical_verdict

        check = self.state.get("classical_check")
        return classical_verdict(check) if check and not check.get("better") else None

    def __repr__(self) -> str:
        s = self.state
        if not s:
            return f"Run({str(self.folder)!r}): not trained yet"
        text = (f"Run({str(self.folder)!r}): {s.get('epochs_done', 0)} epochs, {s.get('steps', 0)} steps; best "
                f"validation RMSE {s.get('best_val_rmse', float('nan')):.5f} (epoch {s.get('best_epoch', '-')}); "
                f"{s.get('stop_reason') or s.get('status', '')}")
        # The last line of a notebook cell is where the student looks: the warning goes there too.
        return text + (f"\n{self.warning}" if self.warning else "")


def train(data: "Dataset", run, config: "Config | None" = None, *, minutes: float | None = None,
          steps: int | None = None, epochs: int | None = None, resume: bool = False, progress: bool = True) -> Run:
    """Train pix2pix on `data` into the run folder `run`, within a budget (minutes, steps or epochs).

    `config` defaults to `make_config()`, the standard preset with a seed drawn for this run (printed);
    its image size and mask settings are those `data` was read with (`load_data`), so the run's
    config.toml says how its data was read and which seed it used. `progress` draws one line that says
    how much of the budget is used, the time left and the validation RMSE. Interrupting the kernel
    saves a checkpoint; `resume=True` continues it with the run's own config (`config` is not needed)
    and its own budget, unless a budget is given now. Returns the Run.
    """
    _quiet_tensorflow()
    from inpaint import config as config_mod
    from inpaint import run_folder
    from inpaint.callbacks import BudgetBar
    from inpaint.training import train as train_run

    if resume and run_folder.is_run(Path(run)):  # the run's own config; without a budget now, its own budget
        new_budget = any(budget is not None for budget in (epochs, steps, minutes))
        budget = with_budget(config_mod.Config(), epochs, steps, minutes)  # what a budget given now replaces
        cfg = run_folder.config_for(Path(run), budget, resume=True, new_budget=new_budget)
    else:
        read_as = {"image_size": data.size, "mask_threshold": data.mask_threshold, "mask_grow": data.mask_grow}
        cfg = with_budget(config_mod.from_dict(read_as, config or make_config()), epochs, steps, minutes)
    bars = (BudgetBar(cfg.minutes, cfg.steps, cfg.epochs),) if progress else ()
    if not resume:
        run_folder.config_for(Path(run), cfg, resume=False)  # a folder that holds a run: refused before the seed line
        print(f"seed {cfg.seed} (saved in {Path(run) / run_folder.CONFIG_FILE}; make_config(..., seed={cfg.seed}) "
              "repeats this run)")
    train_run(data, Path(run), cfg, resume=resume, verbose=0, callbacks=bars)
    return Run(run)


def open_run(folder) -> Run:
    """A run folder written earlier (by `train` here or `inpaint train`)."""
    return Run(folder)


def predict(run, data: "Dataset", tta: bool | None = None) -> "np.ndarray":
    """The inpainted test images, (n, M, N) in [0, 1] at the submission's size, from the run's best
    generator (flip averaging as the run's config says, unless `tta` is given)."""
    _quiet_tensorflow()
    from inpaint.prediction import predict_run

    return predict_run(Path(getattr(run, "folder", run)), data, tta_flip=tta)


def write_submission(predictions, data: "Dataset", csv="Predict.csv", sample=None) -> Path:
    """Predictions (n, M, N) in [0, 1] -> the submission CSV, columns named by `data`'s test images;
    `sample` (sample_submission.csv) supplies the header and ids when the competition gives one."""
    from submission import export_predictions

    return export_predictions(predictions, data.test_white.names, Path(csv), Path(sample) if sample else None)


def validate_submission(csv="Predict.csv", data=None, sample=None, size=None, images: int | None = None,
                        run=None) -> "Verdict":
    """What the scorer will do with the file: refuse it (every reason), score it badly (the mistake named),
    or score it. `data` (a Dataset or its folder) gives the expected names and size and lets the
    diagnosis compare with the test images; `sample` the competition's sample submission; `run` (a Run
    or its folder) the run that predicted it: a run NOT better than the classical fill is named as the
    mistake, so the file is "SCORED BADLY", not "OK". `verdict.ok`, `verdict.exit_code` (0, 2 or 3, as
    `inpaint validate`)."""
    from submission.validate import Expected, check_submission

    expected = Expected.from_sample(Path(sample)) if sample else None
    test = None
    if data is not None:
        if not hasattr(data, "csv_test"):
            data = load_data(data)
        test = data.csv_test
        expected = expected or Expected.from_test_images(data.test_white.names, data.csv_test.white.shape[1:],
                                                         str(data.folder))
    verdict = check_submission(Path(csv), expected or Expected.from_shape(size, images), test)
    if run is not None and not verdict.errors:
        warning = (run if isinstance(run, Run) else Run(run)).warning
        if warning:
            verdict.diagnoses.append("the run that predicted it is " + warning.split("the kept generator is ", 1)[-1])
    return verdict


def score(solution, submission) -> "ScoreResult":
    """RMSE of a submission CSV against a solution CSV, as Kaggle computes it (float64); `.rmse`, `.per_column`."""
    from submission import score_files

    return score_files(Path(solution), Path(submission))
