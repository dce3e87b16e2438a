"""The line of a failure message a profile keeps: what went wrong, not a traceback's header."""

from __future__ import annotations

from pathlib import Path

from tools.eventlog import load_profile
from tools.eventlog.model import failure_line

WORKLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "workloads"


def test_a_python_failure_keeps_the_exception_the_traceback_ends_with() -> None:
    """The retried_tasks workload's UDF raises ValueError in partition 0 (real PySpark log): its stage and job
    failure reasons said only '... Traceback (most recent call last):'."""
    profile = load_profile(WORKLOADS / "retried_tasks.zstd")
    expected = "[PYTHON_EXCEPTION] An exception was thrown from the Python worker: ValueError: bad record in partition 0"
    assert [s.failure_reason for s in profile.stages if s.failure_reason] == [expected]
    assert [j.failure_reason for j in profile.jobs if j.failure_reason] == [expected]


def test_chained_exceptions_give_the_last_and_java_messages_keep_their_first_line() -> None:
    chained = ("Job aborted due to stage failure: Task 0 in stage 1.0 failed 4 times, most recent failure: "
               "org.apache.spark.api.python.PythonException: Traceback (most recent call last):\n"
               '  File "job.py", line 3, in parse\n    int(value)\nValueError: invalid literal\n\n'
               "During handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n"
               '  File "job.py", line 5, in parse\n    raise KeyError(value)\nKeyError: \'x\'\n\n'
               "\tat org.apache.spark.api.python.BasePythonRunner.handlePythonException(PythonRunner.scala:1097)\n"
               "Driver stacktrace:\nsomething else")
    assert failure_line(chained) == ("Job aborted due to stage failure: Task 0 in stage 1.0 failed 4 times, most recent "
                                     "failure: org.apache.spark.api.python.PythonException: KeyError: 'x'")
    java = "Job aborted due to stage failure: java.lang.OutOfMemoryError: Java heap space\n\tat java.base/...\n"
    assert failure_line(java) == "Job aborted due to stage failure: java.lang.OutOfMemoryError: Java heap space"
    assert failure_line("Traceback (most recent call last):\n  File \"x.py\"") == "Traceback (most recent call last):"
    assert failure_line("a" * 50, limit=10) == "a" * 10
