"""`inpaint cluster-config`: the TF_CONFIG of each worker, so nobody writes that JSON by hand."""
from __future__ import annotations

import json
import shlex

from inpaint.runtime.distribute import parse_workers, tf_config


def cmd_cluster_config(args) -> int:
    config = json.dumps(tf_config(parse_workers(args.workers), args.index), separators=(",", ":"))
    print(f"export TF_CONFIG={shlex.quote(config)}" if args.export else config)
    return 0


def register(add) -> None:
    """Add `cluster-config` to the `inpaint` parser."""
    p = add("cluster-config", cmd_cluster_config,
            "print the TF_CONFIG of one worker of a training cluster (worker 0 is the chief)",
            example=['export TF_CONFIG="$(inpaint cluster-config --workers pc1:2222,pc2:2222 --index 0)"',
                     "inpaint cluster-config --workers pc1:2222,pc2:2222 --index 1 --export"])
    p.add_argument("--workers", required=True, help="host:port of every worker, comma-separated, the same on all")
    p.add_argument("--index", type=int, required=True, help="this machine's position in --workers, from 0")
    p.add_argument("--export", action="store_true", help="print a shell line: export TF_CONFIG='...'")
