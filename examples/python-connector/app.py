"""The example connector in Python: the host's built-in sandbox ATS (a small REST API with
bearer-key auth, offset paging and `updated_since` filtering), built into a component with
componentize-py against `wit/since_v0.2.0` (world `connector-world`).

Every request goes through the host's `http` import (`wit_world.imports.http.send`): the
sandbox grants a connector no sockets, and the host checks each URL against the manifest's
`egress-hosts`. HTTP statuses become the contract's typed `ats-error` the way the Rust SDK
maps them (`sdk/src/errors.rs`), so the host decides retries from the variant.

Everything the app uses at run time is imported at the top of this file: componentize-py
snapshots the interpreter after importing the app, and later imports may not resolve.
"""

import email.utils
import json
import time
from typing import Any, Dict, List, NoReturn, Optional

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import http, log
from wit_world.imports.types import (
    Account,
    AtsError,
    AtsError_Conflict,
    AtsError_Forbidden,
    AtsError_InvalidInput,
    AtsError_NotFound,
    AtsError_RateLimited,
    AtsError_Remote,
    AtsError_Transient,
    AtsError_Unauthorized,
    AtsError_Unsupported,
    Candidate,
    CandidateInput,
    CandidateLookup,
    CandidateLookup_Email,
    CandidateLookup_Phone,
    CandidatePage,
    ConfigField,
    Field,
    Job,
    JobPage,
    JobStatus,
    Location,
    Manifest,
    Operation,
    PageRequest,
    RateLimit,
    RejectionReason,
    RejectionReasonPage,
    RemoteFailure,
    Stage,
    StagePage,
    UpsertOutcome,
    UpsertResult,
    User,
    UserPage,
)

CONNECTOR_VERSION = "0.1.0"
DEFAULT_PAGE_SIZE = 100
# The sandbox ATS answers 400 for a larger page.
MAX_PAGE_SIZE = 500
OFFSET_PREFIX = "offset:"
# How much of a remote answer is kept in an error (characters), as in the Rust SDK.
EXCERPT_CHARS = 512

OPERATIONS = [
    Operation.CHECK,
    Operation.LIST_JOBS,
    Operation.LIST_STAGES,
    Operation.GET_CANDIDATE,
    Operation.FIND_CANDIDATES,
    Operation.UPSERT_CANDIDATE,
    Operation.LIST_USERS,
    Operation.LIST_REJECTION_REASONS,
]

JOB_STATUSES = {
    "closed": JobStatus.CLOSED,
    "draft": JobStatus.DRAFT,
    "archived": JobStatus.ARCHIVED,
}


class Connector(exports.Connector):
    def describe(self) -> Manifest:
        return Manifest(
            id="python-minimal",
            ats_name="Sandbox ATS",
            connector_version=CONNECTOR_VERSION,
            operations=list(OPERATIONS),
            config_fields=[
                ConfigField(
                    name="base-url",
                    secret=False,
                    required=True,
                    help="Root URL of the ATS API, e.g. http://127.0.0.1:7800",
                ),
                ConfigField(
                    name="api-key",
                    secret=True,
                    required=True,
                    help="API key, sent as a bearer token",
                ),
            ],
            # The whole base URL comes from the connection config.
            egress_hosts=["{base-url}"],
            result_modes=[],
            application_attachments=False,
        )

    def check(self, config: List[Field]) -> Account:
        body = get_json(config, "/api/account")
        return Account(display_name=text(body, "name") or text(body, "id") or "Sandbox ATS")

    def list_jobs(self, config: List[Field], page: PageRequest) -> JobPage:
        limit = page_size(page)
        offset = offset_from_token(page.page_token)
        path = f"/api/jobs?offset={offset}&limit={limit}"
        if page.since is not None:
            path += "&updated_since=" + url_encode(page.since)
        jobs = items(get_json(config, path), "jobs")
        return JobPage(
            items=[to_job(job) for job in jobs],
            next_page_token=next_offset_token(offset, len(jobs), limit),
        )

    def list_stages(
        self, config: List[Field], job_id: Optional[str], page: PageRequest
    ) -> StagePage:
        path = "/api/stages" if job_id is None else f"/api/jobs/{url_encode(job_id)}/stages"
        stages = items(get_json(config, path), "stages")
        result = []
        for stage in stages:
            position = stage.get("position")
            result.append(
                Stage(
                    id=text(stage, "id") or "",
                    name=text(stage, "name") or "",
                    job_id=job_id,
                    position=position if isinstance(position, int) and position >= 0 else 0,
                    raw=json.dumps(stage),
                )
            )
        return StagePage(items=result, next_page_token=None)

    def get_candidate(self, config: List[Field], candidate_id: str) -> Candidate:
        return to_candidate(get_json(config, f"/api/candidates/{url_encode(candidate_id)}"))

    def find_candidates(
        self, config: List[Field], lookup: CandidateLookup, page: PageRequest
    ) -> CandidatePage:
        found = find(config, lookup)
        return CandidatePage(items=[to_candidate(c) for c in found], next_page_token=None)

    def upsert_candidate(self, config: List[Field], input: CandidateInput) -> UpsertResult:
        body = {
            "first_name": input.first_name,
            "last_name": input.last_name,
            "emails": input.emails,
            "phones": input.phones,
            "source": input.source,
        }
        # Deduplicate the way the ATS allows: by e-mail first, then by phone.
        lookups: List[CandidateLookup] = [CandidateLookup_Email(e) for e in input.emails[:1]]
        lookups += [CandidateLookup_Phone(p) for p in input.phones[:1]]
        for lookup in lookups:
            found = find(config, lookup)
            existing = text(found[0], "id") if found else None
            if existing:
                send_json(config, "PATCH", f"/api/candidates/{url_encode(existing)}", body)
                return UpsertResult(candidate_id=existing, outcome=UpsertOutcome.MATCHED)
        created = send_json(config, "POST", "/api/candidates", body)
        candidate_id = text(created, "id")
        if not candidate_id:
            raise Err(remote(201, "created candidate has no id"))
        return UpsertResult(candidate_id=candidate_id, outcome=UpsertOutcome.CREATED)

    def list_users(self, config: List[Field], page: PageRequest) -> UserPage:
        users = items(get_json(config, "/api/users"), "users")
        return UserPage(
            items=[
                User(
                    id=text(u, "id") or "",
                    first_name=text(u, "first_name") or "",
                    last_name=text(u, "last_name") or "",
                    email=text(u, "email"),
                    active=u.get("active") is not False,
                )
                for u in users
            ],
            next_page_token=None,
        )

    def list_rejection_reasons(
        self, config: List[Field], page: PageRequest
    ) -> RejectionReasonPage:
        reasons = items(get_json(config, "/api/rejection-reasons"), "rejection_reasons")
        return RejectionReasonPage(
            items=[RejectionReason(id=text(r, "id") or "", name=text(r, "name") or "") for r in reasons],
            next_page_token=None,
        )

    # Every operation not in the manifest answers `unsupported`. The host never calls them
    # (it refuses an undeclared operation itself), but the component must export them all.

    def list_applications(self, config, page):
        unsupported("list-applications")

    def create_application(self, config, input):
        unsupported("create-application")

    def move_application(self, config, application_id, stage_id):
        unsupported("move-application")

    def add_note(self, config, input):
        unsupported("add-note")

    def add_tag(self, config, input):
        unsupported("add-tag")

    def add_attachment(self, config, input):
        unsupported("add-attachment")

    def reject_application(self, config, input):
        unsupported("reject-application")

    def write_result(self, config, input):
        unsupported("write-result")

    def parse_webhook(self, config, request):
        unsupported("parse-webhook")

    def list_tags(self, config, page):
        unsupported("list-tags")

    def get_application(self, config, application_id):
        unsupported("get-application")

    def remove_tag(self, config, input):
        unsupported("remove-tag")

    def register_webhook(self, config, subscription):
        unsupported("register-webhook")

    def unregister_webhook(self, config, remote_id):
        unsupported("unregister-webhook")


def unsupported(operation: str) -> NoReturn:
    raise Err(AtsError_Unsupported(f"{operation} is not supported by this connector"))


# --- configuration -------------------------------------------------------------------------


def require(config: List[Field], name: str) -> str:
    for field in config:
        if field.name == name and field.value.strip():
            return field.value
    raise Err(AtsError_InvalidInput(f"config field `{name}` is required"))


def base_url(config: List[Field]) -> str:
    return require(config, "base-url").rstrip("/")


# --- HTTP through the host ------------------------------------------------------------------


def request(config: List[Field], method: str, path: str, body: Optional[Any] = None) -> Any:
    """Sends one request through the host; answers the decoded JSON of a 2xx answer, and
    raises the typed `ats-error` for anything else."""
    headers = [
        Field(name="authorization", value="Bearer " + require(config, "api-key")),
        Field(name="accept", value="application/json"),
    ]
    payload = None
    if body is not None:
        headers.append(Field(name="content-type", value="application/json"))
        payload = json.dumps(body).encode("utf-8")
    outgoing = http.Request(
        method=method, url=base_url(config) + path, headers=headers, body=payload, timeout_ms=None
    )
    try:
        response = http.send(outgoing)
    except Err as failure:
        raise Err(from_http_error(failure.value)) from None
    if not 200 <= response.status < 300:
        retry_after = header(response.headers, "retry-after")
        raise Err(error_for_status(response.status, retry_after, response.body))
    if not response.body:
        return {}
    try:
        return json.loads(response.body)
    except ValueError as error:
        raise Err(remote(response.status, f"unexpected JSON ({error}): {excerpt(response.body)}")) from None


def get_json(config: List[Field], path: str) -> Any:
    return request(config, "GET", path)


def send_json(config: List[Field], method: str, path: str, body: Dict[str, Any]) -> Any:
    return request(config, method, path, body)


def header(headers: List[Field], name: str) -> Optional[str]:
    for field in headers:
        if field.name.lower() == name:
            return field.value
    return None


def url_encode(value: str) -> str:
    """Percent-encodes everything but RFC 3986's unreserved characters (as the Rust SDK's
    `url_encode`): `ada+jobs@example.com` must not arrive as a space."""
    unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    return "".join(
        chr(b) if chr(b) in unreserved else f"%{b:02X}" for b in value.encode("utf-8")
    )


# --- errors ---------------------------------------------------------------------------------


def excerpt(body: bytes) -> str:
    decoded = body.decode("utf-8", errors="replace")
    return decoded if len(decoded) <= EXCERPT_CHARS else decoded[:EXCERPT_CHARS] + "…"


def remote(status: int, detail: str) -> AtsError:
    return AtsError_Remote(RemoteFailure(status=status, body_excerpt=detail))


def parse_retry_after(value: Optional[str]) -> Optional[int]:
    """`Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); a past date is 0."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return min(int(value), 2**32 - 1)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    wait = when.timestamp() - time.time()
    # Round up: waiting slightly too long is safe, too short is not.
    return max(0, min(int(-(-wait // 1)), 2**32 - 1))


def error_for_status(status: int, retry_after: Optional[str], body: bytes) -> AtsError:
    """The typed error of a non-2xx answer, as `sdk/src/errors.rs` maps it."""
    detail = excerpt(body)
    seconds = parse_retry_after(retry_after)
    if status == 401:
        return AtsError_Unauthorized(f"HTTP 401: {detail}")
    if status == 403:
        return AtsError_Forbidden(f"HTTP 403: {detail}")
    if status in (404, 410):
        return AtsError_NotFound(f"HTTP {status}: {detail}")
    if status == 409:
        return AtsError_Conflict(f"HTTP 409: {detail}")
    if status in (400, 422):
        return AtsError_InvalidInput(f"HTTP {status}: {detail}")
    if status == 429 or (status == 503 and seconds is not None):
        return AtsError_RateLimited(
            RateLimit(retry_after_seconds=seconds, message=f"HTTP {status}: {detail}")
        )
    if status == 408 or 500 <= status <= 599:
        return AtsError_Transient(f"HTTP {status}: {detail}")
    return remote(status, detail)


def from_http_error(error: http.HttpError) -> AtsError:
    """The typed error of a failure of the host's `http` import itself."""
    if isinstance(error, http.HttpError_Denied):
        return AtsError_Forbidden(f"egress denied by host: {error.value}")
    if isinstance(error, http.HttpError_Timeout):
        return AtsError_Transient(f"timeout: {error.value}")
    if isinstance(error, http.HttpError_Connect):
        return AtsError_Transient(f"connection failed: {error.value}")
    if isinstance(error, http.HttpError_TooLarge):
        return remote(0, f"response larger than the host's cap of {error.value} bytes")
    return AtsError_InvalidInput(f"bad request: {error.value}")


# --- paging ---------------------------------------------------------------------------------


def page_size(page: PageRequest) -> int:
    limit = page.limit if page.limit else DEFAULT_PAGE_SIZE
    return max(1, min(limit, MAX_PAGE_SIZE))


def offset_from_token(token: Optional[str]) -> int:
    if token is None:
        return 0
    number = token[len(OFFSET_PREFIX) :] if token.startswith(OFFSET_PREFIX) else ""
    if not number.isdigit():
        raise Err(AtsError_InvalidInput(f"page token `{token}` is not an offset token"))
    return int(number)


def next_offset_token(offset: int, returned: int, limit: int) -> Optional[str]:
    """The next page's token; none when this page came back short (it was the last)."""
    if returned > 0 and returned >= limit:
        return f"{OFFSET_PREFIX}{offset + returned}"
    return None


# --- mapping the sandbox ATS's JSON onto the unified model ----------------------------------


def items(body: Any, key: str) -> List[Dict[str, Any]]:
    found = body.get(key) if isinstance(body, dict) else None
    if not isinstance(found, list):
        raise Err(remote(200, f"the answer has no `{key}` list: {excerpt(json.dumps(body).encode())}"))
    return [item for item in found if isinstance(item, dict)]


def text(record: Any, key: str) -> Optional[str]:
    value = record.get(key) if isinstance(record, dict) else None
    return value if isinstance(value, str) else None


def strings(record: Dict[str, Any], key: str) -> List[str]:
    values = record.get(key)
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []


def location(city: Optional[str]) -> Optional[Location]:
    if city is None:
        return None
    return Location(text=city, city=city, region=None, country=None, postal_code=None, remote=None)


def to_job(raw: Dict[str, Any]) -> Job:
    recruiter = text(raw, "recruiter")
    return Job(
        id=text(raw, "id") or "",
        code=text(raw, "ref"),
        title=text(raw, "title") or "",
        status=JOB_STATUSES.get(text(raw, "status") or "", JobStatus.OPEN),
        location=location(text(raw, "city")),
        employment_type=None,
        description=text(raw, "description"),
        department=text(raw, "department"),
        assigned_users=[recruiter] if recruiter else [],
        post_url=None,
        screening_questions=[],
        opened_at=None,
        closed_at=None,
        created_at=text(raw, "created_at"),
        updated_at=text(raw, "updated_at"),
        custom_fields=[],
        raw=json.dumps(raw),
    )


def to_candidate(raw: Dict[str, Any]) -> Candidate:
    tags = raw.get("tags")
    tag_names = [text(t, "tag") for t in tags] if isinstance(tags, list) else []
    return Candidate(
        id=text(raw, "id") or "",
        first_name=text(raw, "first_name") or "",
        last_name=text(raw, "last_name") or "",
        emails=strings(raw, "emails"),
        phones=strings(raw, "phones"),
        tags=[t for t in tag_names if t],
        source=text(raw, "source"),
        location=None,
        company=None,
        title=None,
        links=[],
        updated_at=text(raw, "updated_at"),
        custom_fields=[],
        raw=json.dumps(raw),
    )


def find(config: List[Field], lookup: CandidateLookup) -> List[Dict[str, Any]]:
    """Candidates with this e-mail address, or with a phone number of the same digits."""
    if isinstance(lookup, CandidateLookup_Email):
        query = "email=" + url_encode(lookup.value)
    else:
        query = "phone=" + url_encode(lookup.value)
    found = items(get_json(config, "/api/candidates?" + query), "candidates")
    log.log(log.Level.DEBUG, f"candidate lookup found {len(found)}")
    return found
