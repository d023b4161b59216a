"""inpaint-kit: train pix2pix to repaint the blanked mouth of a face, and submit Predict.csv right the first time.

In a notebook (Jupyter, Colab, Kaggle), from a data folder in the data_spec.md layout:

    import inpaint

    data = inpaint.load_data("DATA")                  # checks the folder; shows what it holds
    config = inpaint.make_config("standard")          # a preset, keys changed by name: batch_size=16, ...;
                                                      # a seed drawn for this run (train prints it), seed=N repeats one
    run = inpaint.train(data, "runs/first", config, minutes=20)   # a progress line; Ctrl-C keeps a checkpoint
    run                                               # ends with a WARNING while it is not better than Telea
    run.plot_losses()                                 # the loss curves, inline
    run.show_samples()                                # validation faces from the generator kept as the best
    predictions = inpaint.predict(run, data)          # (n, M, N) in [0, 1]
    inpaint.write_submission(predictions, data, "Predict.csv")
    inpaint.validate_submission("Predict.csv", data, run=run)  # what the scorer will do with it, and why

Functions:
    load_data(folder, size=(128, 128))       check and read a data folder (also mask_threshold=, mask_grow=)
    make_config(preset="standard", **keys)   the training config ('lite', 'standard', 'large'); seed drawn unless given
    train(data, run, config, minutes=, steps=, epochs=, resume=False)  -> Run
    open_run(folder)                         a run folder trained earlier -> Run
    Run: .state .log .config .warning .plot_losses() .show_samples() .report(answers=None)
    predict(run, data)                       the test images inpainted, at the submission's size
    write_submission(predictions, data, csv="Predict.csv", sample=None)
    validate_submission(csv, data=None, sample=None, run=None)  -> verdict (.ok, .exit_code, every reason)
    score(solution_csv, submission_csv)      RMSE as Kaggle computes it

The same steps on the command line: `inpaint --help`; the student's guide is docs/student.md.
TensorFlow starts with the first function that needs it, with one line about the device instead of
its start-up notices (set INPAINT_VERBOSE=1 to see them all); importing the package starts nothing
and changes nothing in the import system.
"""
from inpaint.api import (Run, load_data, make_config, open_run, predict, score, train, validate_submission,
                         write_submission)

__version__ = "0.1.0"
__all__ = ["Run", "load_data", "make_config", "open_run", "predict", "score", "train", "validate_submission",
           "write_submission"]
# No module of the package bears one of these names (the training loop is inpaint/training.py, prediction
# inpaint/prediction.py), so importing a module never binds it over an API function (tests/test_api.py).
