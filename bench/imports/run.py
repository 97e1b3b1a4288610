"""Import benchmark: a 10,000-row file through the staff upload, imported in the background.

A fresh SQLite database (``flask db upgrade``, bench/load/run.py's campaign with 300 notes), a
manager (``flask users create``), and the app in-process (Flask's test client, CSRF off) with
the task queue NOT in immediate mode: a worker thread in the same process takes the task
from the queue file (``huey.dequeue()`` + ``huey.execute()``, what ``flask worker`` does).

The file is realistic: Danish answers from the demo with typos, emoji, dates written three
ways, roles and areas in Danish; and a few bad rows (a formula, a text over 1,000
characters, 31-02-2025, a role the wall does not know, a future date), empty rows and rows
repeated. Measured:

  1. the upload (POST of the file: read and check its first rows, render the preview);
  2. the click on "Importér alle svarene" (check the mapping, store the file with the job,
     redirect to the job's page): both must answer in under a second;
  3. the job, from its start to its end, and rows per second; the job's page as polled every
     half second while it runs ("1.200 af 10.000 svar", time left);
  4. for comparison, the same file imported the old way, in one transaction as the request
     did before (``imports.import_answers``), into a second wall.

Run from the repository root: ``.venv/bin/python bench/imports/run.py [--rows 10000]``.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "load"))

WORK = Path(tempfile.mkdtemp(prefix="stemmer-bench-imports-"))
os.environ["STEMMER_QUEUE_FILE"] = str(WORK / "queue.db")  # before the queue is imported
os.environ.pop("STEMMER_QUEUE_IMMEDIATE", None)

import run as load  # noqa: E402  (bench/load/run.py)

EMAIL = "manager@bench.example"
PASSWORD = "et godt kodeord til bench"


def typo(text: str, rng: random.Random) -> str:
    """One letter swapped with the next, or dropped (what hurried typing does)."""
    if len(text) < 6:
        return text
    i = rng.randrange(1, len(text) - 2)
    if rng.random() < 0.5:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + text[i + 1 :]


def make_file(rows: int, seed: int = 7) -> tuple[bytes, dict[str, int]]:
    """A semicolon CSV as Danish Excel saves it (UTF-8 with BOM here) and what it holds."""
    import json

    rng = random.Random(seed)
    texts = [
        json.loads(line)["text"]
        for line in (ROOT / "surveys" / "demo" / "answers.jsonl").read_text().splitlines()
        if line.strip()
    ]
    emoji = ["🙂", "🌳", "🚲", "⚽", "❤️", "👍🏽", "🏊", ""]
    roles = ["Forælder", "forældre", "Ung", "fagperson", "", ""]
    areas = ["Rønne", "Nexø", ""]
    lines = ["Svar;Dato;Rolle;Område;Sted"]
    kinds = {"bad": 0, "empty": 0, "repeated": 0}
    bad_rows = {
        rows // 7: ("=SUM(A1:A3)", "24-05-2025"),
        rows // 5: ("lang " * 250, "24-05-2025"),
        rows // 3: ("Flere bænke", "31-02-2025"),
        rows // 2: ("Mere lys på stien", "2099-01-01"),
    }
    for n in range(rows):
        if n in bad_rows:
            text, day = bad_rows[n]
            lines.append(f"{text};{day};;;")
            kinds["bad"] += 1
            continue
        if n % 997 == 13:
            lines.append(";;;;")
            kinds["empty"] += 1
            continue
        if n % 1499 == 29:  # the role the wall does not know
            lines.append("Gode legepladser;24-05-2025;bedstemor;;")
            kinds["bad"] += 1
            continue
        if n % 500 == 250 and n > 0:  # the row above, typed twice
            lines.append(lines[-1])
            kinds["repeated"] += 1
            continue
        text = texts[n % len(texts)]
        if rng.random() < 0.3:
            text = typo(text, rng)
        text = f"{text} {rng.choice(emoji)}".strip() + f" (nr. {n})"
        day = rng.choice(["24-05-2025", "2025-05-24", "24.5.2025", ""])
        lines.append(f"{text};{day};{rng.choice(roles)};{rng.choice(areas)};Folkemødet")
    data = "\ufeff" + "\r\n".join(lines) + "\r\n"
    return data.encode("utf-8"), kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()

    url = f"sqlite:///{WORK / 'bench.db'}"
    load.prepare_database(url)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "FLASK_APP": "wsgi"}
    subprocess.run(
        [str(load.BIN / "flask"), "users", "create", EMAIL, "--role", "manager", "--org", "bench",
         "--password-stdin"],
        cwd=ROOT, env=env, input=PASSWORD, text=True, check=True, capture_output=True,
    )  # fmt: skip

    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.queue import huey
    from app.warmup import warm_up as warm_up_app
    from surveys import imports
    from surveys.models import Answer, Job, Wall
    from surveys.privacy import warm_up

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "QUEUE_IMMEDIATE": False,
            "RATELIMIT_ENABLED": False,
            "BASE_URL": "http://localhost",
        }
    )
    app.instance_path = str(WORK / "instance")
    huey.flush()
    client = app.test_client()
    assert (
        client.post("/staff/login", data={"email": EMAIL, "password": PASSWORD}).status_code == 303
    )
    with app.app_context():
        wall_id, other_id = db.session.scalars(select(Wall.id).order_by(Wall.id)).all()[:2]
        wall = db.session.get(Wall, wall_id)
        assert wall is not None
        prompt_id = wall.prompts[0].id
    warm_up()  # the guard's name lists, loaded once per process (gunicorn and a busy worker)
    warm_up_app(app)  # templates compiled, locale data loaded: what gunicorn does at start

    data, kinds = make_file(args.rows)
    print(f"file: {args.rows} rows, {len(data) / 1e6:.2f} MB; bad {kinds['bad']}, empty "
          f"{kinds['empty']}, repeated {kinds['repeated']}")  # fmt: skip

    started = time.perf_counter()
    preview = client.post(
        f"/staff/walls/{wall_id}/import",
        data={"file": (io.BytesIO(data), "svar.csv")},
        content_type="multipart/form-data",
    )
    upload_seconds = time.perf_counter() - started
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page[:2000]
    token = re.search(r'name="upload" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {
        "upload": token,
        "action": "import",
        "map_text": "Svar",
        "map_date": "Dato",
        "map_role": "Rolle",
        "map_area": "Område",
        "map_place": "Sted",
        "default_prompt": str(prompt_id),
        "skip_invalid": "y",
    }
    started = time.perf_counter()
    updated = client.post(f"/staff/walls/{wall_id}/import", data={**form, "action": "preview"})
    update_seconds = time.perf_counter() - started
    assert updated.status_code == 200 and "data-preview-partial" in updated.get_data(as_text=True)
    started = time.perf_counter()
    response = client.post(f"/staff/walls/{wall_id}/import", data=form)
    import_seconds = time.perf_counter() - started
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    print(f"upload and preview: {upload_seconds * 1000:.0f} ms (status {preview.status_code})")
    print(f"preview with the question chosen: {update_seconds * 1000:.0f} ms")
    print(f"import click -> {location}: {import_seconds * 1000:.0f} ms")

    def worker() -> None:  # what `flask worker` does with one task
        huey.execute(huey.dequeue())

    clicked = time.perf_counter()
    thread = threading.Thread(target=worker)
    thread.start()
    samples: list[str] = []
    while True:
        state = client.get(f"{location}/status.json").get_json()
        samples.append(
            f"  {time.perf_counter() - clicked:5.1f} s  {state['status']:8} "
            f"{state['message'] or '-':24} {state['count']:24} {state['time_left']}"
        )
        if state["finished"]:
            break
        time.sleep(0.5)
    thread.join()
    waited = time.perf_counter() - clicked
    print("the job's page, polled every 0.5 s:")
    print("\n".join(samples))
    with app.app_context():
        job = db.session.get(Job, int(location.rsplit("/", 1)[1]))
        assert job is not None and job.started_at and job.finished_at
        job_seconds = (job.finished_at - job.started_at).total_seconds()
        stored = db.session.scalar(select(func.count()).where(Answer.wall_id == wall_id))
        print(
            f"job {job.status.value}: {job_seconds:.1f} s from start to end ({waited:.1f} s "
            f"from the click); {args.rows / job_seconds:.0f} rows/s; result {job.result}"
        )
        print(f"answers on the wall: {stored} (300 before)")

        # The old way, in one transaction (what the request did before), into another wall.
        other = db.session.get(Wall, other_id)
        assert other is not None
        table = imports.read_table(data, "svar.csv")
        mapping = imports.ColumnMapping(
            text="Svar", date="Dato", role="Rolle", area="Område", place="Sted"
        )
        started = time.perf_counter()
        options = imports.ImportOptions(skip_invalid=True, prompt_id=other.prompts[0].id)
        plan = imports.import_answers(db.session, other, table, mapping, options)
        old_seconds = time.perf_counter() - started
        print(f"for comparison, in one transaction (the old request): {old_seconds:.1f} s, "
              f"{plan.to_import} answers")  # fmt: skip
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
