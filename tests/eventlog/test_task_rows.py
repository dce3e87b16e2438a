"""Rows built from decoded TaskEnds: each executor peak lands in its own column, absent peaks are NaN."""

import math

import msgspec

from tools.eventlog import events as ev
from tools.eventlog.stages import DISTRIBUTION_FIELDS, PEAK_FIELDS, task_block

LINE = (b'{"Event":"SparkListenerTaskEnd","Stage ID":1,"Task End Reason":{"Reason":"Success"},'
        b'"Task Info":{"Launch Time":1,"Executor ID":"1","Finish Time":5},'
        b'"Task Executor Metrics":{"JVMHeapMemory":1,"JVMOffHeapMemory":2,"OnHeapExecutionMemory":3,'
        b'"OffHeapExecutionMemory":4,"ProcessTreeJVMRSSMemory":77,"ProcessTreePythonRSSMemory":55},'
        b'"Task Metrics":{"Executor Run Time":2,"Shuffle Read Metrics":{"Fetch Wait Time":3,'
        b'"Remote Bytes Read":10,"Local Bytes Read":5}}}')


def test_executor_peaks_and_shuffle_read_land_in_their_columns_with_absent_peaks_nan():
    with_peaks = msgspec.json.decode(LINE, type=ev.TaskEnd)
    without = msgspec.json.decode(LINE.replace(b'"Task Executor Metrics"', b'"Other"'), type=ev.TaskEnd)
    assert without.executor_metrics is None
    block = task_block([with_peaks, without])
    base = len(DISTRIBUTION_FIELDS)
    peaks = dict(zip(PEAK_FIELDS, block[0, base:].tolist()))
    assert peaks == {"peak_jvm_heap_bytes": 1.0, "peak_jvm_offheap_bytes": 2.0, "peak_execution_memory_bytes": 7.0,
                     "peak_python_memory_bytes": 55.0, "peak_rss_bytes": 77.0}
    assert all(math.isnan(v) for v in block[1, base:].tolist())
    row = dict(zip(DISTRIBUTION_FIELDS, block[0, :base].tolist()))
    assert (row["shuffle_fetch_wait_ms"], row["shuffle_remote_bytes_read"], row["shuffle_read_bytes"]) == (3.0, 10.0, 15.0)
    assert all(math.isnan(v) for v in task_block([without, without])[:, base:].ravel().tolist())
