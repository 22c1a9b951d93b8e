"""Policy tests: YAML files of contexts and the decisions the policies must reach.

Layers, as for policies: ``model`` (the file format, and its JSON Schema in ``schema``),
``load`` (files -> validated cases with located problems), ``run`` and ``coverage``
(evaluate and check), ``session`` (command-line paths -> results). ``riskctl test`` is the
tool on top; ``riskctl.report`` renders results as text or JUnit XML.
"""

from riskctl.policytest.coverage import Coverage
from riskctl.policytest.load import (
    PolicyTestFile,
    PreparedFile,
    find_test_files,
    load_test_file,
    prepare,
)
from riskctl.policytest.model import Case, Expectation, PolicyTest
from riskctl.policytest.run import CaseResult, FileResult, RunResult, check, run_tests
from riskctl.policytest.session import Session, run_paths

__all__ = [
    "Case",
    "CaseResult",
    "Coverage",
    "Expectation",
    "FileResult",
    "PolicyTest",
    "PolicyTestFile",
    "PreparedFile",
    "RunResult",
    "Session",
    "check",
    "find_test_files",
    "load_test_file",
    "prepare",
    "run_paths",
    "run_tests",
]
