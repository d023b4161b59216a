"""`inpaint report`: a run folder -> RUN/report/ (losses.png, d_separation.png, samples.png, architecture.png/.txt, report.md/.html).

Meant as the base of a student's write-up: the network architecture, the G and D loss
curves, the method (the resolved config) and, given answers, the test RMSE beside baselines.
"""
from __future__ import annotations

import base64
import html
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from inpaint import config as config_mod
from inpaint import run_folder as rf
from inpaint.errors import UserError
from inpaint.imaging import atomic_write_bytes
from inpaint.reporting.curves import loss_figure, separation_figure
from submission.leaderboard import markdown_table


class ReportError(UserError):
    """The run folder lacks what a report needs."""


def architecture_text(cfg: config_mod.Config) -> str:
    """Keras summaries of G and D with parameter counts."""
    from inpaint.models import build_discriminator, build_generator

    lines = []
    os.environ.setdefault("COLUMNS", "160")  # rich, which draws the summary, cuts tables at this width
    for model in (build_generator(cfg), build_discriminator(cfg)):
        # print_fn makes Keras render at line_length instead of the (unknown) terminal width.
        model.summary(line_length=110, print_fn=lambda text, line_break=True: lines.append(text))
        lines.append("")
    return _strip_ansi("\n".join(lines))


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def write_diagram(cfg: config_mod.Config, path: Path) -> None:
    """architecture.png: G and D drawn as blocks (inpaint/reporting/diagram.py; no pydot or Graphviz needed)."""
    from inpaint.models import build_discriminator, build_generator
    from inpaint.reporting.diagram import draw_architecture

    draw_architecture(build_generator(cfg), build_discriminator(cfg), path)


def samples_shown(run: Path, cfg: config_mod.Config, state: dict) -> tuple[Path | None, str]:
    """The sample grid to show and its caption: the faces as the generator the submission used inpaints them."""
    best, grids = run / rf.SAMPLES / rf.BEST_SAMPLES, sorted((run / rf.SAMPLES).glob("epoch_*.png"))
    if cfg.average_last <= 1 and best.exists() and "best_epoch" in state:
        return best, (f"the best generator by validation RMSE, epoch {state['best_epoch']}: the one predict and "
                      "submit use (shown without flip averaging)")
    if grids:
        epoch = int(grids[-1].stem.split("_")[1])
        why = (f"predict and submit average the last {cfg.average_last} checkpoints" if cfg.average_last > 1
               else "this run folder has no grid of its best generator")
        return grids[-1], f"the last grid, epoch {epoch} ({why})"
    return None, ""


def results_table(run: Path, data_dir: Path, cfg: config_mod.Config) -> pd.DataFrame:
    """Test RMSE of this run beside the identity baseline and OpenCV Telea, on a folder with answers."""
    from inpaint.classical_fill import opencv_fill  # the fill `inpaint baseline telea` submits (baselines/classical.py)
    from inpaint.data import load_data
    from inpaint.prediction import predict_run

    data = load_data(data_dir, size=cfg.image_size, need_train=False, mask_threshold=cfg.mask_threshold,
                     mask_grow=cfg.mask_grow)
    if data.test_real is None:
        raise ReportError(f"{data_dir}: no Testing/Real answers; drop --answers or give a folder with answers")
    test = data.csv_test  # scored at the submission's size, as Kaggle scores it
    truth = test.real.astype(np.float64)
    rows = {
        "this run (pix2pix)": predict_run(run, data),
        "identity (White images)": test.white,
        "OpenCV Telea inpainting": opencv_fill(test.white, test.mask, "telea"),
    }
    table = pd.DataFrame(
        {"method": list(rows), "RMSE": [float(np.sqrt(np.mean((p - truth) ** 2))) for p in rows.values()]}
    )
    return table.sort_values("RMSE").reset_index(drop=True)


def write_report(run: Path, answers: Path | None = None) -> Path:
    run = Path(run)
    cfg = rf.load_config(run)
    log_path = run / rf.LOG_FILE
    if not log_path.exists() or log_path.stat().st_size == 0:
        raise ReportError(f"{run}: no training log ({rf.LOG_FILE}); train at least one epoch first")
    log = rf.read_log(run)
    if log.empty:
        raise ReportError(f"{log_path}: the log has no epochs yet")
    out = run / rf.REPORT
    out.mkdir(exist_ok=True)
    loss_figure(log, out / "losses.png")
    (out / "d_separation.png").unlink(missing_ok=True)
    separation_figure(log, out / "d_separation.png")
    grid, caption = samples_shown(run, cfg, rf.read_state(run))
    notes = []
    if grid:
        _copy(grid, out / "samples.png")
    else:
        notes.append("no sample grid yet (they are written every `sample_every` epochs)")
    _write_text(out / "architecture.txt", architecture_text(cfg))
    write_diagram(cfg, out / "architecture.png")
    _copy(run / rf.CONFIG_FILE, out / rf.CONFIG_FILE)
    table = results_table(run, Path(answers), cfg) if answers else None
    markdown = report_markdown(run, cfg, log, table, caption, notes, out)
    _write_text(out / "report.md", markdown)
    _write_text(out / "report.html", report_html(markdown, out))
    return out


def written_files(out: Path) -> list[str]:
    """What `write_report` wrote into `out`, for the command to list (d_separation.png only when the log
    has D's outputs)."""
    names = ("report.md", "report.html", "losses.png", "d_separation.png", "samples.png", "architecture.png",
             "architecture.txt", rf.CONFIG_FILE)
    return [name for name in names if (Path(out) / name).exists()]


def _write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())  # a failed report leaves no half-written file


def _copy(source: Path, path: Path) -> None:
    atomic_write_bytes(path, Path(source).read_bytes())


def report_markdown(run, cfg, log, table, samples_caption, notes, out: Path) -> str:
    last = log.iloc[-1]
    best = log.loc[log["val_rmse"].idxmin()] if "val_rmse" in log else last
    lines = [
        f"# Training report: `{run.name}`",
        "",
        "## Method",
        "",
        f"pix2pix: a U-Net generator (depth {cfg.gen_depth}, {cfg.gen_base_filters}-{cfg.gen_max_filters} filters, "
        f"{cfg.gen_norm} norm, {cfg.gen_upsample} upsampling, dropout {cfg.gen_dropout}) maps the blanked (White) "
        f"face to a full face; a PatchGAN discriminator (depth {cfg.disc_depth}) judges (White, image) pairs.",
        f"Generator loss = {cfg.lambda_adv:g} x {cfg.adversarial} adversarial + {cfg.lambda_l1:g} x L1 "
        f"(weight {cfg.hole_weight:g} inside the box)"
        + (f" + {cfg.lambda_l2:g} x L2" if cfg.lambda_l2 else "")
        + (". Pixels outside the box are copied from the input (compositing)." if cfg.composite else "."),
        f"Adam (lr {cfg.learning_rate:g}, beta_1 {cfg.beta_1:g}), batch {cfg.batch_size}, {cfg.d_steps} D update(s) "
        f"per G update, images {cfg.image_size[0]}x{cfg.image_size[1]}, horizontal flips"
        + (f" and brightness/contrast jitter {cfg.intensity_jitter:g}" if cfg.intensity_jitter else "") + ".",
        *_options_sentence(cfg),
        f"Trained {len(log)} epochs; validation RMSE {last.get('val_rmse', float('nan')):.5f} at the last epoch, "
        f"best {best.get('val_rmse', float('nan')):.5f} at epoch {int(best['epoch'])}.",
        "",
        "## Losses",
        "",
        "![losses](losses.png)",
        "",
        *(["![d_separation](d_separation.png)", ""] if (out / "d_separation.png").exists() else []),
    ]
    if samples_caption:
        lines += ["## Samples", "", f"Validation faces (White | prediction | Real | error) from {samples_caption}.",
                  "", "![samples](samples.png)", ""]
    if table is not None:
        lines += ["## Test RMSE", "", markdown_table(table), ""]
    lines += ["## Architecture", "", "Keras summaries with parameter counts: [architecture.txt](architecture.txt).", "",
              "![architecture](architecture.png)", ""]
    lines += ["## Config", "", "```toml", config_mod.to_toml(cfg).rstrip(), "```", ""]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


def _options_sentence(cfg) -> list[str]:
    """The training choices beyond plain pix2pix that this run used, in words for the write-up."""
    used = []
    if cfg.crop_size != (0, 0):
        used.append(f"the networks see a {cfg.crop_size[0]}x{cfg.crop_size[1]} window around the box, placed at "
                    "random where the box fits in training and centred on it at prediction")
    if cfg.ema_decay:
        used.append(f"validation and prediction use an exponential moving average of the generator's weights "
                    f"(decay {cfg.ema_decay:g})")
    if cfg.patience:
        used.append(f"training stops after {cfg.patience} epochs without a better validation RMSE")
    return ["Also: " + "; ".join(used) + "."] if used else []


def report_html(markdown: str, out: Path) -> str:
    """A self-contained page: the markdown as preformatted text sections, images embedded as data URIs."""
    parts = []
    for block in markdown.split("\n\n"):
        image = re.fullmatch(r"!\[(\w+)\]\(([\w.]+)\)", block.strip())
        if image and (out / image.group(2)).exists():
            data = base64.b64encode((out / image.group(2)).read_bytes()).decode()
            parts.append(f'<img alt="{image.group(1)}" src="data:image/png;base64,{data}" style="max-width:100%">')
        elif block.startswith("#"):
            level = len(block) - len(block.lstrip("#"))
            parts.append(f"<h{level}>{html.escape(block.lstrip('# '))}</h{level}>")
        else:
            parts.append(f"<pre>{html.escape(block)}</pre>")
    body = "\n".join(parts)
    return f"<!doctype html><meta charset='utf-8'><title>training report</title>\n<body style='font-family:sans-serif;max-width:60em'>\n{body}\n</body>\n"
