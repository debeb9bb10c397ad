"""Worker side: what the pre-assessment needs of one submission, kept in its GradeResult.

The comment's text is read from the submitted file (which no kernel touched); the facts come from
a process forked before the notebook ran (facts.collect), plus the saved model's verified accuracy
on the hidden split."""
from __future__ import annotations

from autograder.comments import text

FACTS_TARGET = "autograder.comments.facts:collect"


def time_limit(settings) -> float:
    """Seconds the facts may take: two small models evaluated on the training folder."""
    return max(60.0, settings.cell_timeout)


def gather(call, plan, capture, lab, settings, notebook_path, verified: dict) -> dict:
    """{'grade_id', 'text', 'facts'} for GradeResult.comment; {} when the notebook has no comment
    cell. `call`: a ForkedCall made before the notebook ran."""
    from autograder.judging.forked import ProcessFailed

    grade_id, comment = text.read_comment(notebook_path)
    if not grade_id:
        call.close()
        return {}
    try:
        facts = call.call(FACTS_TARGET, plan.to_dict(), str(capture), str(lab), settings.max_model_params,
                          timeout=time_limit(settings), memory_mb=settings.grader_memory_limit_mb)
    except ProcessFailed as failure:   # timed out, stopped at the memory limit, or died: killed with its children
        facts = {"missing": {"all": f"the facts process {failure}"}}
    except Exception as error:  # the grader's own failure: the comment is still listed, unchecked
        facts = {"missing": {"all": f"{type(error).__name__}: {error}"}}
    if verified.get("status") in ("verified", "failed") and isinstance(verified.get("accuracy"), float):
        facts["hidden_accuracy"] = verified["accuracy"]
    return {"grade_id": grade_id, "text": comment, "facts": facts}
