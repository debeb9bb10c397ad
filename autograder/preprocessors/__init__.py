"""The kit's nbgrader preprocessors and the settings that put them in nbgrader's pipeline: the
sandboxed and the limited execute, the repaired sanitizer, and the scrub after the kernel."""
