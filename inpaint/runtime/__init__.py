"""How the process runs TensorFlow, whatever it trains: a quiet start (quiet_start), several machines
(distribute) and the watchdog that stops a cluster waiting for a lost worker. Knows nothing of the GAN."""
