"""The console's services: officials and their sessions, sign-in throttling, the audit log, and the
searches and comparisons behind the pages. HTTP-free, and never commits (the request session does)."""

from __future__ import annotations

import difflib
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from typing import Any, Generic, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, and_, case, delete, exists, func, literal, or_, select, type_coerce, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.db.base import UtcDateTime
from app.db.models import AuditEvent, Company, Decision, Official, OfficialSession, SignInThrottle
from app.engine import Rule, RuleSet, RuleSetError, compile_rule
from app.engine.errors import RuleFileError
from app.engine.examples import ExampleOutcome, run_examples
from app.errors import InvalidCredentialsError, OfficialExistsError, OfficialNotFoundError
from app.registry import service as registry_service
from app.settings import Settings

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 10

SIGN_IN, SIGN_IN_FAILED, SIGN_IN_REFUSED, SIGN_OUT = "sign_in", "sign_in_failed", "sign_in_refused", "sign_out"
DRAFT_EVALUATED, REPLAY = "draft_evaluated", "replay"
OFFICIAL_CREATED, OFFICIAL_DISABLED = "official_created", "official_disabled"

_hasher = PasswordHasher()
T = TypeVar("T")


# ---------------------------------------------------------------------------------------------------
# Officials
# ---------------------------------------------------------------------------------------------------


def normalise_username(username: str) -> str:
    return username.strip().lower()


def create_official(session: Session, *, username: str, password: str) -> Official:
    """Create an official with an argon2id password hash."""
    username = normalise_username(username)
    if not USERNAME.match(username):
        raise InvalidCredentialsError(
            "A username is 2 to 64 characters: lower-case letters, digits, '.', '_' or '-', starting with "
            "a letter or digit.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidCredentialsError(f"A password has at least {MIN_PASSWORD_LENGTH} characters.")
    if session.scalar(select(Official.id).where(Official.username == username)) is not None:
        raise OfficialExistsError(f"An official named {username!r} already exists.", username=username)
    official = Official(username=username, password_hash=_hasher.hash(password))
    session.add(official)
    session.flush()
    record_event(session, action=OFFICIAL_CREATED, username=username, official_id=official.id,
                 details={"via": "command line"})
    return official


def disable_official(session: Session, *, username: str, now: datetime | None = None) -> Official:
    """Disable an official: no more sign-ins, and every open session ends."""
    username = normalise_username(username)
    official = session.scalar(select(Official).where(Official.username == username))
    if official is None:
        raise OfficialNotFoundError(f"No official named {username!r}.", username=username)
    if official.disabled_at is None:
        official.disabled_at = now or datetime.now(UTC)
        record_event(session, action=OFFICIAL_DISABLED, username=username, official_id=official.id,
                     details={"via": "command line"})
    for row in session.scalars(select(OfficialSession).where(OfficialSession.official_id == official.id)):
        session.delete(row)
    return official


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class SignIn:
    """The outcome of a sign-in attempt: the official, or why not (and for how long when throttled)."""

    official: Official | None
    retry_after_minutes: int | None = None

    @property
    def throttled(self) -> bool:
        return self.retry_after_minutes is not None


def _throttle_keys(username: str, ip: str | None, settings: Settings) -> list[tuple[str, int]]:
    """What an attempt counts against: its username from its address, and its address. Never the
    username alone, so failures from elsewhere cannot lock a real official out; the per-address limit
    is higher, as an office shares one address."""
    address = ip or "unknown"
    return [(f"user:{username}@{address}", settings.max_failures_per_username),
            (f"ip:{address}", settings.max_failures_per_ip)]


def _count_attempt(session: Session, key: str, *, now: datetime, since: datetime) -> tuple[int, datetime]:
    """Add one attempt to `key` (a new window when its window has passed); return the count and the
    window's start. One statement: parallel attempts take the row's lock in turn, each seeing its own
    count (a count read before the attempt let 19 of 20 parallel attempts through a limit of 5)."""
    table = SignInThrottle.__table__
    dialect = session.get_bind().dialect.name
    insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    stale = table.c.window_start <= literal(since, UtcDateTime())
    statement = insert.values(key=key, window_start=now, attempts=1).on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"attempts": case((stale, 1), else_=table.c.attempts + 1),
              "window_start": case((stale, literal(now, UtcDateTime())), else_=table.c.window_start)},
    ).returning(table.c.attempts, table.c.window_start)
    attempts, started = session.execute(statement).one()
    return attempts, started


def _take_back_attempt(session: Session, keys: list[str]) -> None:
    """A successful sign-in was not a failure: its attempt no longer counts."""
    session.execute(update(SignInThrottle).where(SignInThrottle.key.in_(keys), SignInThrottle.attempts > 0)
                    .values(attempts=SignInThrottle.attempts - 1))


def throttled_for(session: Session, *, username: str, ip: str | None, settings: Settings,
                  now: datetime) -> tuple[int | None, list[str]]:
    """Count this attempt; return the minutes until its username and address may try again (None if
    it may try now), and the keys it was counted against."""
    window = timedelta(minutes=settings.failure_window_minutes)
    since = now - window
    session.execute(delete(SignInThrottle).where(SignInThrottle.window_start <= since))  # tidy up, no more
    waits = []
    keys = _throttle_keys(username, ip, settings)
    for key, limit in keys:
        attempts, started = _count_attempt(session, key, now=now, since=since)
        if attempts > limit:
            waits.append(started + window - now)
    wait = max(1, -(-int(max(waits).total_seconds()) // 60)) if waits else None
    return wait, [key for key, _ in keys]


def sign_in(session: Session, *, username: str, password: str, ip: str | None, settings: Settings,
            now: datetime | None = None) -> SignIn:
    """Check a username and password, recording the attempt; refuse outright while throttled."""
    now = now or datetime.now(UTC)
    username = normalise_username(username)[:64]
    wait, keys = throttled_for(session, username=username, ip=ip, settings=settings, now=now)
    if wait is not None:
        record_event(session, action=SIGN_IN_REFUSED, username=username, ip=ip, now=now,
                     details={"retry_after_minutes": wait})
        return SignIn(None, wait)
    official = session.scalar(select(Official).where(Official.username == username))
    if official is None or official.disabled_at is not None:
        # Hash anyway, so the answer takes as long as for a real account and does not reveal which exist.
        _verify(_dummy_hash(), password)
        reason = "unknown username" if official is None else "account disabled"
        record_event(session, action=SIGN_IN_FAILED, username=username, ip=ip, now=now,
                     official_id=official.id if official else None, details={"reason": reason})
        return SignIn(None)
    if not _verify(official.password_hash, password):
        record_event(session, action=SIGN_IN_FAILED, username=username, ip=ip, now=now,
                     official_id=official.id, details={"reason": "wrong password"})
        return SignIn(None)
    _take_back_attempt(session, keys)
    if _hasher.check_needs_rehash(official.password_hash):
        official.password_hash = _hasher.hash(password)
    record_event(session, action=SIGN_IN, username=username, ip=ip, now=now, official_id=official.id)
    return SignIn(official)


# ---------------------------------------------------------------------------------------------------
# Sessions: the cookie holds a random token, the table its HMAC (a stolen table opens no session)
# ---------------------------------------------------------------------------------------------------


def token_digest(token: str, secret: str) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def start_official_session(session: Session, official: Official, *, settings: Settings,
                           now: datetime | None = None) -> tuple[str, OfficialSession]:
    """Open a session for `official`; return the cookie token (not stored) and the row."""
    now = now or datetime.now(UTC)
    session.execute(delete(OfficialSession).where(OfficialSession.expires_at <= now))  # tidy up, no more
    token = secrets.token_urlsafe(32)
    row = OfficialSession(
        id=token_digest(token, _secret(settings)), official_id=official.id,
        csrf_token=secrets.token_urlsafe(32), created_at=now,
        expires_at=now + timedelta(minutes=settings.session_minutes),
    )
    session.add(row)
    session.flush()
    return token, row


def find_official_session(session: Session, token: str, *, settings: Settings,
                          now: datetime | None = None) -> tuple[OfficialSession, Official] | None:
    """The live session this token opens and its official; None if unknown, expired or disabled."""
    now = now or datetime.now(UTC)
    found = session.execute(
        select(OfficialSession, Official).join(Official, Official.id == OfficialSession.official_id)
        .where(OfficialSession.id == token_digest(token, _secret(settings)))
    ).first()
    if found is None:
        return None
    row, official = found
    if row.expires_at <= now or official.disabled_at is not None:
        return None
    return row, official


def end_official_session(session: Session, row: OfficialSession) -> None:
    session.delete(row)


def _secret(settings: Settings) -> str:
    assert settings.session_secret is not None, "create_app supplies one (with_session_secret)"
    return settings.session_secret.get_secret_value()


def signed(value: str, settings: Settings) -> str:
    """An HMAC of `value` under the session secret (the sign-in form's CSRF token)."""
    return hmac.new(_secret(settings).encode(), b"sign-in:" + value.encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------------------------------
# The audit log: insert and read, nothing else
# ---------------------------------------------------------------------------------------------------


def record_event(session: Session, *, action: str, username: str, official_id: uuid.UUID | None = None,
                 ip: str | None = None, details: Mapping[str, Any] | None = None,
                 now: datetime | None = None) -> AuditEvent:
    """Append one event to the audit log."""
    event = AuditEvent(recorded_at=now or datetime.now(UTC), official_id=official_id, username=username[:64],
                       action=action, details=dict(details or {}), ip=ip)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _paginate(session: Session, query: Select[Any], *, page: int, per_page: int) -> Page[Any]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = min(max(1, page), max(1, -(-total // per_page)))
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, total, page, per_page)


def list_events(session: Session, *, page: int = 1, per_page: int = 50) -> Page[AuditEvent]:
    """The audit log, newest first."""
    query = select(AuditEvent).order_by(AuditEvent.recorded_at.desc(), AuditEvent.id.desc())
    return _paginate(session, query, page=page, per_page=per_page)


# ---------------------------------------------------------------------------------------------------
# Policies
# ---------------------------------------------------------------------------------------------------


def search_policies(ruleset: RuleSet, *, q: str = "", region: str = "", kind: str = "") -> list[Rule]:
    """Rules whose id or title contains `q`, covering `region` (a code prefix or a name), of `kind`."""
    needle = q.strip().lower()
    place = region.strip()
    tables = ruleset.tables
    found = []
    for rule in ruleset.rules.values():
        d = rule.definition
        if needle and not any(needle in text.lower() for text in (rule.id, d.title.zh, d.title.en)):
            continue
        if kind and d.benefit.kind != kind:
            continue
        if place and not any(_region_matches(place, code, tables) for code in d.region):
            continue
        found.append(rule)
    return sorted(found, key=lambda r: r.id)


def _region_matches(place: str, code: str, tables: Any) -> bool:
    """A code matches a rule region at, above or below it; a name matches by substring, in either language."""
    if place.isdigit():
        return tables.region_within(place, code) is not False  # at or below the rule's region, or holding it
    return place in tables.region_name(code, "zh") or place.lower() in tables.region_name(code, "en").lower()


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: str  # "context", "delete", "insert", "hunk"
    old: int | None
    new: int | None
    text: str


def diff_lines(old_text: str, new_text: str, *, context: int = 3) -> list[DiffLine]:
    """A unified diff of two texts as rows to render (escaped by the template, never marked safe)."""
    old, new = old_text.splitlines(), new_text.splitlines()
    rows: list[DiffLine] = []
    for group in difflib.SequenceMatcher(None, old, new, autojunk=False).get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        rows.append(DiffLine("hunk", None, None,
                             f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(DiffLine("context", i + 1, j + 1, old[i]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True))
                continue
            if tag in ("replace", "delete"):
                rows.extend(DiffLine("delete", i + 1, None, old[i]) for i in range(i1, i2))
            if tag in ("replace", "insert"):
                rows.extend(DiffLine("insert", None, j + 1, new[j]) for j in range(j1, j2))
    return rows


# ---------------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionQuery:
    company: str = ""
    credit_code: str = ""
    policy: str = ""
    outcome: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _has_result(session: Session, policy: str, outcome: str) -> Any:
    """Decisions whose outcomes include `policy` (any, when empty) with `outcome` (any, when empty)."""
    if session.get_bind().dialect.name == "postgresql":
        outcomes = type_coerce(Decision.outcomes, JSONB)
        if policy:
            return outcomes.contains({policy: outcome}) if outcome else outcomes.has_key(policy)
        each = func.jsonb_each_text(outcomes).table_valued("key", "value")
    else:
        each = func.json_each(Decision.outcomes).table_valued("key", "value")
    conditions = [each.c.key == policy] if policy else []
    if outcome:
        conditions.append(each.c.value == outcome)
    return exists(select(literal(1)).select_from(each).where(and_(*conditions)))


def search_decisions(session: Session, query: DecisionQuery, *, page: int = 1,
                     per_page: int = 25) -> Page[Decision]:
    """Logged decisions matching every given filter, newest first."""
    statement = select(Decision).outerjoin(Company, Company.id == Decision.company_id)
    if query.company.strip():
        pattern = f"%{query.company.strip()}%"
        statement = statement.where(or_(Decision.profile["name"].as_string().ilike(pattern),
                                        Company.name.ilike(pattern)))
    if query.credit_code.strip():
        code = query.credit_code.strip().upper()
        statement = statement.where(or_(Decision.profile["credit_code"].as_string() == code,
                                        Company.credit_code == code))
    if query.policy or query.outcome:
        statement = statement.where(_has_result(session, query.policy, query.outcome))
    if query.date_from:
        statement = statement.where(Decision.created_at >= datetime.combine(query.date_from, time(), CHINA))
    if query.date_to:
        end = datetime.combine(query.date_to + timedelta(days=1), time(), CHINA)
        statement = statement.where(Decision.created_at < end)
    statement = statement.order_by(Decision.created_at.desc(), Decision.id)
    return _paginate(session, statement, page=page, per_page=per_page)


def find_decision(session: Session, decision_id: str) -> Decision | None:
    try:
        return session.get(Decision, uuid.UUID(decision_id))
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------------
# Draft rules: validate, run the examples, compare with the published rule over the registry
# ---------------------------------------------------------------------------------------------------

_ID_LINE = re.compile(r"^id:\s*[\"']?([A-Za-z0-9._-]+)", re.MULTILINE)


def draft_file_name(text: str, uploaded: str | None) -> str:
    """The file name a draft is checked under: the upload's, else `<its id>.yaml`."""
    if uploaded:
        return uploaded.replace("\\", "/").rsplit("/", 1)[-1]
    match = _ID_LINE.search(text)
    return f"{match.group(1)}.yaml" if match else "draft.yaml"


@dataclass
class DraftReport:
    file_name: str
    errors: list[RuleFileError] = field(default_factory=list)
    rule: Rule | None = None
    examples: list[ExampleOutcome] = field(default_factory=list)
    impact: registry_service.Impact | None = None
    current_version: str | None = None

    @property
    def examples_passed(self) -> int:
        return sum(outcome.passed for outcome in self.examples)


def evaluate_draft(session: Session, ruleset: RuleSet, *, text: str, file_name: str,
                   sources: Mapping[str, str], as_of: date) -> DraftReport:
    """Everything an official needs to judge a draft before it is published; publishes nothing."""
    report = DraftReport(file_name)
    try:
        rule = compile_rule(text, file_name, tables=ruleset.tables, sources=sources,
                            display_path=f"draft/{file_name}")
    except RuleSetError as exc:
        report.errors = list(exc.errors)
        return report
    report.rule = rule
    report.examples = run_examples(ruleset, rule)
    report.impact = registry_service.impact(session, rule, ruleset, as_of=as_of)
    current = ruleset.rules.get(rule.id)
    report.current_version = current.version if current else None
    return report
