"""Import a Retraction Watch CSV (Crossref's public download) and apply it to our references."""

import os

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from governance.background.retractions import RetractionFileInvalid, import_file


class Command(BaseCommand):
    help = ("Read a Retraction Watch CSV; mark matching references (by DOI or PMID) retracted, corrected or "
            "under an expression of concern; move published articles citing a retracted one to review_due.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the Retraction Watch CSV (e.g. retraction_watch.csv).")
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")

    def handle(self, *args, file: str, no_progress: bool = False, **options):
        if not os.path.isfile(file):
            raise CommandError(f"file: {file} does not exist.")
        size = os.path.getsize(file)

        def progress(handle):
            bar = tqdm(total=size, unit="B", unit_scale=True, desc="retractions", file=self.stderr._out,
                       disable=no_progress)
            for line in handle:
                bar.update(len(line.encode("utf-8", "replace")))
                yield line
            bar.close()

        try:
            record = import_file(file, progress=progress)
        except RetractionFileInvalid as exc:
            raise CommandError(f"file: {exc}") from exc
        result = record.result
        self.stdout.write(f"{record.rows} notices read; {record.matched} of our references matched; "
                          f"{record.changed} changed; {record.articles_flagged} article(s) moved to review_due.")
        for reference, old, new in result.changed:
            self.stdout.write(f"  {reference}: {old} → {new}")
        for slug in result.flagged:
            self.stdout.write(f"  review due: {slug}")
