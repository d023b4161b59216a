"""Every benchmark of the kit, one module per thing measured; the figures in BENCHMARKS.md and the docs.

    training     `inpaint bench quality|speed`: the kit's training against the baselines (RMSE after a
                 budget; a train step's throughput against the course deck's loop)
    step_profile `inpaint bench profile`: where one train step's time goes, op by op (TensorFlow's trace)
    copies       `inpaint bench copies`: the calibration of copy detection (submission/copies.py)
    serve        `inpaint bench serve`: a real server under a burst of uploads
    serve_class  `inpaint bench serve --scenario class`: a class of 200 with stored uploads
                 (serve_class_setup: the class seeded, and the client that uploads as a browser does)
    judge_cost   `python -m benchmarks.judge_cost`: what one upload costs the host (docs/hosting.md)

The rule: a benchmark lives here, whatever it measures, because it measures the other packages from
above (training needs baselines/, serve needs competition/); nothing but the command line
(inpaint/cli/bench.py) imports it. tests/test_layout.py holds the arrows.
"""
