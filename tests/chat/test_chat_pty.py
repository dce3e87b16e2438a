"""`copilot chat` driven through a real pseudo-terminal: multi-turn, resumed threads, LLM streaming, no stored secrets."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import pexpect
import pytest
from llm_doubles import OpenAIStub
from planted_secrets import SECRET_VALUES

pytestmark = pytest.mark.slow

PROMPT = "you> "


def spawn(copilot_exe: str, *args: str, env: dict | None = None) -> pexpect.spawn:
    child = pexpect.spawn(copilot_exe, ["chat", *args], env={**os.environ, "COLUMNS": "140", **(env or {})},
                          encoding="utf-8", timeout=90, dimensions=(50, 140))
    return child


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text: str) -> str:
    return ANSI.sub("", text).replace("\r\n", "\n")


def start(child: pexpect.spawn) -> str:
    child.expect_exact(PROMPT)
    return plain(child.before)


def turn(child: pexpect.spawn, line: str) -> str:
    child.sendline(line)
    child.expect_exact(PROMPT)
    return plain(child.before)


def thread_id(banner: str) -> str:
    return re.search(r"--thread ([0-9a-f]+)", banner).group(1)


def stored_bytes(home: Path) -> bytes:
    path = home / "threads.sqlite"
    with sqlite3.connect(path) as conn:  # everything in every table, as the bytes SQLite holds
        rows = [r for t, in conn.execute("select name from sqlite_master where type='table'")
                for r in conn.execute(f"select * from {t}")]
    return path.read_bytes() + repr(rows).encode()


def test_multi_turn_session_then_a_resumed_thread(copilot_exe: str, yarn_log: str, copilot_home: Path) -> None:
    child = spawn(copilot_exe, yarn_log)
    banner = start(child)
    tid = thread_id(banner)
    assert "Loaded ProcessLargeDataset" in banner
    assert "43.7 s with 10 executors" in turn(child, "what is this app about? summary please")
    answer = turn(child, "why is stage 3 slow?")
    assert "Stage 3 (SQL 0: Scan parquet, Filter, BroadcastHashJoin, HashAggregate) ran 18.6 s" in answer and "median task 3.1 s" in answer
    answer = turn(child, "what if I double the executors?")
    assert "With 20 executors the simulator predicts" in answer and "<- now" in answer
    assert "/load PATH" in turn(child, "/help")
    child.sendline("/quit")
    child.expect(pexpect.EOF)

    resumed = spawn(copilot_exe, "--thread", tid)
    banner = start(resumed)
    assert f"Resumed thread {tid}" in banner and yarn_log in banner
    assert "ran 43.7 s" in turn(resumed, "summary")  # the log came back with the thread, no /load needed
    resumed.sendline("exit")  # the plain word leaves as /quit does (it was answered as a question)
    resumed.expect_exact("Bye.")
    resumed.expect(pexpect.EOF)


def test_load_and_report_commands(copilot_exe: str, yarn_log: str) -> None:
    child = spawn(copilot_exe)
    start(child)
    assert "No event log is loaded" in turn(child, "summary")
    assert "error:" in turn(child, "/load /nonexistent/log")
    assert "Loaded ProcessLargeDataset" in turn(child, f"/load {yarn_log}")
    report = turn(child, "/report")
    assert "What if: executor count" in report and "ProcessLargeDataset" in report
    child.sendline("/quit")
    child.expect(pexpect.EOF)


def test_llm_chat_streams_through_tool_calls_and_stores_no_secrets(copilot_exe: str, secret_chat_log: str,
                                                                   copilot_home: Path) -> None:
    with OpenAIStub() as stub:
        child = spawn(copilot_exe, secret_chat_log, env={"COPILOT_LLM__BASE_URL": stub.base_url, "COPILOT_LLM__MODEL": "stub"})
        start(child)
        answer = turn(child, "show me the config; my db password=hunter2-PLANTED-pw")
        assert "Looked at application_1538416563558_0014 with the tools." in answer
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    assert any(r.get("stream") for r in stub.requests)
    sent = b"".join(stub.raw_bodies).decode()
    assert "app_overview" in sent
    assert not [s for s in SECRET_VALUES if s in sent]
    stored = stored_bytes(copilot_home)
    assert b"Looked at application_1538416563558_0014" in stored or b"application_1538416563558_0014" in stored
    assert not [s for s in SECRET_VALUES if s.encode() in stored]


def test_offline_chat_stores_no_secrets(copilot_exe: str, secret_chat_log: str, copilot_home: Path) -> None:
    child = spawn(copilot_exe, secret_chat_log)
    start(child)
    turn(child, "token=S3CRETkeyVALUEdoNotLeak42 what is wrong with this job?")
    turn(child, "show me the config to change")
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    stored = stored_bytes(copilot_home)
    assert b"what is wrong with this job" in stored
    assert not [s for s in SECRET_VALUES if s.encode() in stored]
