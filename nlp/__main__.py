"""``python -m nlp themes IN.jsonl --out OUT.json [--themes auto|N] [--seed S]``."""

import sys

from nlp.cli import main

if __name__ == "__main__":
    sys.exit(main())
