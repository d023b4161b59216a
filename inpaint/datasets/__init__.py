"""Building data sets: synthetic faces (synth) and competition sets from face photos (make_pairs, with
face_detect, align and pair_sheet). Reads nothing of training; training reads what these write,
through the data folder (data_spec.md)."""
