"""`manage.py verify_audit` proves the hash chain intact, or exits non-zero naming the first
broken event after a row is edited, deleted or reordered. To tamper on PostgreSQL the tests
must first switch the append-only trigger off, as an attacker with superuser rights would."""

from __future__ import annotations

import contextlib
import io

import pytest
from django.core.management import call_command
from django.db import connection

from governance.management.commands.verify_audit import Command
from governance.models import AuditEvent
from governance.workflow import audit


@contextlib.contextmanager
def tampering():
    """A raw cursor with the append-only trigger bypassed on PostgreSQL (SQLite has none)."""
    on_postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if on_postgres:
            cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            if on_postgres:
                cursor.execute("SET session_replication_role = origin")


@pytest.fixture
def chain(make_article) -> int:
    make_article()
    make_article()
    make_article()
    return AuditEvent.objects.count()


def verify_output() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue().strip()


def broken(*args: str) -> str:
    err = io.StringIO()
    with pytest.raises(SystemExit) as failed:
        call_command("verify_audit", *args, stdout=io.StringIO(), stderr=err)
    assert failed.value.code == 1
    return err.getvalue().strip()


def test_it_reports_an_intact_chain(chain):
    assert chain == 8  # 4 for the first article; later ones reuse its two references
    assert verify_output() == "audit chain intact: 8 events"


def test_it_reports_an_empty_chain_as_intact(db):
    assert verify_output() == "audit chain intact: 0 events"


def test_it_exits_zero_then_one_from_the_command_line(chain, monkeypatch, capsys):
    # run_from_argv is what manage.py runs; keep the test's connection open when it finishes.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    Command().run_from_argv(["manage.py", "verify_audit"])
    assert capsys.readouterr().out.strip() == "audit chain intact: 8 events"

    with tampering() as cursor:
        cursor.execute("UPDATE governance_auditevent SET reason = 'nothing happened' WHERE seq = 5")
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["manage.py", "verify_audit"])

    assert exited.value.code == 1
    assert capsys.readouterr().err.strip() == "audit chain broken at seq 5: content does not match its hash (edited)"


def test_it_names_an_edited_event(chain):
    with tampering() as cursor:
        cursor.execute("UPDATE governance_auditevent SET actor_username = 'someone-else' WHERE seq = 7")

    assert broken() == "audit chain broken at seq 7: content does not match its hash (edited)"


def test_it_names_the_first_of_several_edited_events(chain):
    with tampering() as cursor:
        cursor.execute("UPDATE governance_auditevent SET reason = 'x' WHERE seq IN (3, 7)")

    assert broken().startswith("audit chain broken at seq 3:")


def test_it_catches_an_edit_whose_hash_was_recomputed(chain):
    event = AuditEvent.objects.get(seq=4)
    event.reason = "rewritten with care"
    forged = audit.event_hash(event, event.prev_hash)
    with tampering() as cursor:
        cursor.execute("UPDATE governance_auditevent SET reason = %s, hash = %s WHERE seq = 4", [event.reason, forged])

    assert broken() == "audit chain broken at seq 5: previous-hash link does not match (reordered or removed)"


def test_it_names_the_event_after_a_deleted_one(chain):
    with tampering() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE seq = 6")

    assert broken() == "audit chain broken at seq 7: missing event(s) before it (expected seq 6)"


def test_it_notices_the_last_event_deleted(chain):
    with tampering() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE seq = %s", [chain])

    assert broken() == (f"audit chain broken at seq {chain}: "
                        f"chain ends at seq {chain - 1} but the head records seq {chain} (events removed)")


def test_it_names_the_first_reordered_event(chain):
    with tampering() as cursor:
        cursor.execute("UPDATE governance_auditevent SET seq = -1 WHERE seq = 5")
        cursor.execute("UPDATE governance_auditevent SET seq = 5 WHERE seq = 6")
        cursor.execute("UPDATE governance_auditevent SET seq = 6 WHERE seq = -1")

    assert broken() == "audit chain broken at seq 5: previous-hash link does not match (reordered or removed)"


def test_it_notices_a_renumbered_event(chain):
    with tampering() as cursor:
        cursor.execute("UPDATE governance_auditevent SET seq = 100 WHERE seq = %s", [chain])

    assert broken() == f"audit chain broken at seq 100: missing event(s) before it (expected seq {chain})"


def test_it_verifies_one_articles_events(make_article):
    article = make_article()
    make_article()

    out = io.StringIO()
    call_command("verify_audit", "--article", str(article.pk), stdout=out)

    assert out.getvalue().strip() == "audit chain intact: 4 events"


def test_it_names_a_broken_event_of_one_article(make_article):
    article = make_article()
    make_article()
    seq = AuditEvent.objects.filter(article_id=article.pk).order_by("seq").values_list("seq", flat=True)[2]
    with tampering() as cursor:
        cursor.execute("UPDATE governance_auditevent SET reason = 'x' WHERE seq = %s", [seq])

    assert broken("--article", str(article.pk)) == f"audit chain broken at seq {seq}: content does not match its hash (edited)"


def test_it_reports_no_break_when_an_event_is_appended_during_the_walk(chain, make_article, monkeypatch):
    """On a running system events keep arriving while verify_audit walks the chain; the walk
    checks the chain up to the head it read first, so a newcomer is not taken for a break."""
    original = audit.event_hash
    appended = []

    def hash_then_append(event, prev_hash):
        digest = original(event, prev_hash)
        if not appended and event.seq == chain:  # the walk reached the last event: another commits
            appended.append(True)
            article = make_article(title="Another article")
            audit.record(action="article.note", obj=article, article=article)
        return digest

    monkeypatch.setattr(audit, "event_hash", hash_then_append)
    check = audit.verify()

    assert appended and AuditEvent.objects.count() > chain
    assert check.ok, str(check)
    assert check.count == chain
    monkeypatch.setattr(audit, "event_hash", original)
    assert audit.verify().count == AuditEvent.objects.count()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_reads_the_chain_and_its_head_in_one_snapshot(live_db, make_article, monkeypatch):
    """verify_audit on its own reads the chain and the head in one transaction (REPEATABLE READ
    on PostgreSQL): an event another connection commits meanwhile is in neither."""
    import threading

    make_article()
    total = AuditEvent.objects.count()
    original = audit.event_hash
    seen: dict[str, object] = {}

    def append_elsewhere():
        from django.db import connections

        try:
            article = make_article(title="Another article")
            audit.record(action="article.note", obj=article, article=article)
        finally:
            connections.close_all()

    def hash_and_look(event, prev_hash):
        if event.seq == total and "in_transaction" not in seen:
            seen["in_transaction"] = connection.in_atomic_block
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SHOW transaction_isolation")
                    seen["isolation"] = cursor.fetchone()[0]
                writer = threading.Thread(target=append_elsewhere)  # another connection commits
                writer.start()
                writer.join()
                seen["appended"] = True
        return original(event, prev_hash)

    monkeypatch.setattr(audit, "event_hash", hash_and_look)
    check = audit.verify()

    assert seen["in_transaction"] is True
    assert check.ok, str(check)
    if connection.vendor == "postgresql":
        assert seen["isolation"] == "repeatable read"
        assert AuditEvent.objects.count() > total and check.count == total
