"""The app's logic under plain CPython, with the host's imports faked: what the component
tests cannot reach through the host (it refuses undeclared operations itself) or only with
a fault switch of the sandbox ATS.

Run by `tests/all/example_python.rs`; by hand, with the bindings componentize-py writes:

    componentize-py -d ../../wit/since_v0.2.0 -w connector-world bindings /tmp/bindings
    PYTHONPATH=/tmp/bindings python3 -B -m unittest test_app
"""

import email.utils
import time
import unittest

from componentize_py_types import Err
from wit_world.imports import http, log, types

import app

CONFIG = [
    types.Field(name="base-url", value="http://ats.example/"),
    types.Field(name="api-key", value="k"),
]


class FakeHost:
    """Answers `http.send` from a list of (status, headers, body) and keeps the requests."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []

    def send(self, request):
        self.requests.append(request)
        status, headers, body = self.answers.pop(0)
        if isinstance(status, Exception):
            raise status
        fields = [types.Field(name=k, value=v) for k, v in headers.items()]
        return http.Response(status=status, headers=fields, body=body)


def install(host):
    http.send = host.send
    log.log = lambda level, message: None
    return host


def error_of(call):
    try:
        call()
    except Err as err:
        return err.value
    raise AssertionError("expected an ats-error")


class AppTest(unittest.TestCase):
    def test_undeclared_operations_answer_unsupported(self):
        connector = app.Connector()
        declared = {op.name.lower().replace("_", "-") for op in connector.describe().operations}
        for operation in types.Operation:
            name = operation.name.lower().replace("_", "-")
            if name in declared:
                continue
            method = getattr(connector, name.replace("-", "_"))
            args = [None] * (method.__code__.co_argcount - 1)
            error = error_of(lambda: method(*args))
            self.assertIsInstance(error, types.AtsError_Unsupported, name)
            self.assertIn(name, error.value)

    def test_statuses_become_typed_errors(self):
        later = email.utils.formatdate(time.time() + 90, usegmt=True)
        cases = [
            (401, {}, types.AtsError_Unauthorized),
            (403, {}, types.AtsError_Forbidden),
            (404, {}, types.AtsError_NotFound),
            (409, {}, types.AtsError_Conflict),
            (422, {}, types.AtsError_InvalidInput),
            (429, {"Retry-After": "7"}, types.AtsError_RateLimited),
            (503, {"retry-after": later}, types.AtsError_RateLimited),
            (503, {}, types.AtsError_Transient),
            (418, {}, types.AtsError_Remote),
        ]
        for status, headers, expected in cases:
            install(FakeHost((status, headers, b'{"error": "no"}')))
            error = error_of(lambda: app.Connector().check(CONFIG))
            self.assertIsInstance(error, expected, status)
        install(FakeHost((429, {"Retry-After": "7"}, b"")))
        self.assertEqual(error_of(lambda: app.Connector().check(CONFIG)).value.retry_after_seconds, 7)
        install(FakeHost((503, {"Retry-After": later}, b"")))
        seconds = error_of(lambda: app.Connector().check(CONFIG)).value.retry_after_seconds
        self.assertTrue(85 <= seconds <= 91, seconds)

    def test_transport_failures_and_bad_json(self):
        install(FakeHost((Err(http.HttpError_Timeout("slow")), {}, b"")))
        self.assertIsInstance(error_of(lambda: app.Connector().check(CONFIG)), types.AtsError_Transient)
        install(FakeHost((Err(http.HttpError_Denied("no")), {}, b"")))
        self.assertIsInstance(error_of(lambda: app.Connector().check(CONFIG)), types.AtsError_Forbidden)
        install(FakeHost((200, {}, b"<html>")))
        self.assertIsInstance(error_of(lambda: app.Connector().check(CONFIG)), types.AtsError_Remote)

    def test_requests_carry_the_key_and_encoded_values(self):
        host = install(FakeHost((200, {}, b'{"candidates": []}')))
        page = types.PageRequest(page_token=None, since=None, limit=None)
        lookup = types.CandidateLookup_Email("ada+jobs@example.com")
        app.Connector().find_candidates(CONFIG, lookup, page)
        request = host.requests[0]
        self.assertEqual(request.url, "http://ats.example/api/candidates?email=ada%2Bjobs%40example.com")
        self.assertIn(types.Field(name="authorization", value="Bearer k"), request.headers)
        missing = [types.Field(name="base-url", value="http://ats.example")]
        error = error_of(lambda: app.Connector().check(missing))
        self.assertIsInstance(error, types.AtsError_InvalidInput)
        self.assertIn("api-key", error.value)

    def test_a_page_token_that_is_not_ours_is_invalid_input(self):
        page = types.PageRequest(page_token="garbage", since=None, limit=5)
        error = error_of(lambda: app.Connector().list_jobs(CONFIG, page))
        self.assertIsInstance(error, types.AtsError_InvalidInput)


if __name__ == "__main__":
    unittest.main()
