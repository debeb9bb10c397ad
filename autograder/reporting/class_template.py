"""The class page's HTML, one Jinja2 template (Jinja2 comes with nbconvert) with autoescaping on:
every student id, message and comment reaches the page as text, never as markup."""
from __future__ import annotations

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ assignment }}: class report</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.5; color: #1b1b1b;
       background: #ffffff; margin: 0 auto; max-width: 75rem; padding: 1rem; }
a { color: #1a4f8b; text-decoration: underline; }
:focus-visible { outline: 3px solid #1a4f8b; outline-offset: 2px; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
caption { text-align: left; font-weight: bold; padding: 0.25rem 0; }
th, td { border: 1px solid #767676; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
thead th, th[scope="row"] { background: #eef1f5; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.wide { overflow-x: auto; max-width: 100%; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #d0d0d0; }
figcaption { font-size: 0.95rem; }
nav ul { padding-left: 1.2rem; }
.note { font-size: 0.95rem; }
ul.who { margin: 0; padding-left: 1.1rem; }
</style>
</head>
<body>
{% macro who(student) -%}
{%- if link(student) -%}<a href="{{ link(student) }}" data-student="{{ student }}">{{ student }}</a>
{%- else -%}<span data-student="{{ student }}">{{ student }}</span>{%- endif -%}
{%- endmacro %}
{% macro students(names) -%}
{%- for name in names %}{{ who(name) }}{% if not loop.last %}, {% endif %}{% endfor -%}
{%- endmacro %}
{% macro what(group) -%}
<code>{{ group.grade_id }}</code>{% if group.plain %}: {% else %} expected {% endif %}{{ group.expected }}
{%- endmacro %}
{% macro picture(p, title) -%}
{% if p %}<figure><img src="{{ p.file }}" alt="{{ p.alt }}"><figcaption>{{ title }}</figcaption></figure>{% endif %}
{%- endmacro %}
<header>
<h1>{{ assignment }}: what the class got wrong</h1>
<p>{{ results|length }} submissions; mean {{ "%.1f"|format(mean) }} %, median {{ "%.1f"|format(median) }} %
{%- if letters %} ({{ letters }}){% endif %}. Written {{ written }} from {{ source }}.
Also: <a href="{{ csv }}">grades.csv</a>, <a href="{{ plot }}">the grade distribution</a>, and each student's
feedback page (linked from their id).</p>
<nav aria-label="Sections">
<ul>
<li><a href="#first">Students to look at first</a> ({{ attention|length }})</li>
<li><a href="#activities">Activities and the reasons points were lost</a></li>
<li><a href="#models">The class's models</a></li>
<li><a href="#cost">Statuses and cost</a></li>
<li><a href="#comments">Activity 13: the written comment</a></li>
</ul>
</nav>
</header>
<main>
<section id="first" aria-labelledby="first-title">
<h2 id="first-title">Students to look at first</h2>
{% if attention %}
<div class="wide" role="region" aria-label="Students to look at first, and why" tabindex="0">
<table>
<thead><tr><th scope="col">Student</th><th scope="col">Why</th></tr></thead>
<tbody>
{% for item in attention %}<tr><th scope="row">{{ who(item.student) }}</th><td><ul class="who">
{% for kind, sentence in item.reasons %}<li><strong>{{ kind }}</strong>: {{ sentence }}</li>{% endfor %}
</ul></td></tr>
{% endfor %}</tbody></table></div>
{% else %}<p>No grading errors, copy flags, accuracies within {{ near }} of the threshold or numbers that
changed when regraded.</p>{% endif %}
</section>

<section id="activities" aria-labelledby="activities-title">
<h2 id="activities-title">Activities and the reasons points were lost</h2>
{% if top_groups %}<p>The most common reasons, by the check that took the points:</p>
<ol>{% for group in top_groups %}<li><a href="#group-{{ group_ids[group.key] }}">{{ group.count }}
student{{ "" if group.count == 1 else "s" }}</a>: activity {{ group.activity }}, {{ what(group) }}</li>
{% endfor %}</ol>{% endif %}
<div class="wide" role="region" aria-label="Points per activity" tabindex="0">
<table>
<caption>Points per activity ({{ results|length }} students)</caption>
<thead><tr><th scope="col">Activity</th><th scope="col">Mean</th><th scope="col">Full marks</th>
<th scope="col">Distribution (points: students)</th><th scope="col">Reasons points were lost</th></tr></thead>
<tbody>
{% for s in activities %}<tr><th scope="row">{{ s.activity }}: {{ s.title }}</th>
<td class="n">{{ "%.2f"|format(s.mean) }} / {{ "%g"|format(s.maximum) }}</td>
<td class="n">{{ s.full }} ({{ "%.0f"|format(100 * s.full_share) }} %)</td>
<td>{% for points, count in s.distribution %}{{ "%g"|format(points) }}: {{ count }}
{%- if not loop.last %}; {% endif %}{% endfor %}</td>
<td>{% for group in s.groups %}<a href="#group-{{ group_ids[group.key] }}">{{ group.count }} in {{ group.grade_id }}</a>
{%- if not loop.last %}, {% endif %}{% else %}none{% endfor %}</td></tr>
{% endfor %}</tbody></table></div>
{{ picture(pictures.activities, "Figure: share of students with full, some and no points, per activity "
                                 "(numbers in the table above)") }}
<h3>Reasons points were lost, grouped by check</h3>
{% if groups %}<p class="note">Students in a group lost points to the same check for the same expectation
(its numbers aside); "found" shows what the check found most often.</p>
<div class="wide" role="region" aria-label="Reasons points were lost" tabindex="0">
<table>
<thead><tr><th scope="col">Activity</th><th scope="col">Check and what it expected</th><th scope="col">Students</th>
<th scope="col">Points lost each</th><th scope="col">Who</th><th scope="col">Found (most often)</th></tr></thead>
<tbody>
{% for group in groups %}
<tr id="group-{{ group_ids[group.key] }}" data-group="{{ group.key }}" data-count="{{ group.count }}">
<td class="n">{{ group.activity if group.activity is not none else "-" }}</td>
<td>{{ what(group) }}{% if group.hint %}. <em>Hint given:</em> {{ group.hint }}{% endif %}</td>
<td class="n">{{ group.count }}</td><td class="n">{{ group.points_each }}</td>
<td>{{ students(group.students) }}</td>
<td>{% for found, count in group.found.most_common(2) %}{{ found }} ({{ count }})
{%- if not loop.last %}; {% endif %}{% endfor %}</td></tr>
{% endfor %}</tbody></table></div>
{% else %}<p>No points were lost to an autograded check.</p>{% endif %}
</section>

<section id="models" aria-labelledby="models-title">
<h2 id="models-title">The class's models</h2>
<p>Accuracy of each saved model on the hidden split, measured by the grader (never the notebook's own
numbers), against <code>ACCURACY_THRESHOLD</code> = {{ threshold.threshold }}:
{{ threshold.above|length }} at or above it, {{ threshold.below|length }} below it (the threshold decides
their points){% if threshold.unmeasured %}, {{ threshold.unmeasured|length }} without a measured model
({% for student, status in threshold.unmeasured|dictsort %}{{ who(student) }}: {{ status }}
{%- if not loop.last %}; {% endif %}{% endfor %}){% endif %}.</p>
{% if threshold.accuracies %}
<table>
<caption>What moving the threshold would change</caption>
<thead><tr><th scope="col">Threshold moved by</th><th scope="col">Would pass if lower</th>
<th scope="col">Would fail if higher</th></tr></thead>
<tbody>{% for shift in threshold.shifts %}<tr><th scope="row">{{ shift.margin }}</th>
<td>{{ shift.would_pass|length }}{% if shift.would_pass %}: {{ students(shift.would_pass) }}{% endif %}</td>
<td>{{ shift.would_fail|length }}{% if shift.would_fail %}: {{ students(shift.would_fail) }}{% endif %}</td></tr>
{% endfor %}</tbody></table>
{{ picture(pictures.accuracy, "Figure: each saved model's hidden accuracy against the threshold "
                               "(numbers in the table above)") }}
{% endif %}
<h3>Overfitting at a glance: the train/validation gap against the hidden accuracy</h3>
{% if overfitting %}
{{ picture(pictures.overfitting, "Figure: the first model's gap against the hidden accuracy "
                                  "(numbers in the table below)") }}
<div class="wide" role="region" aria-label="Train and validation accuracy per student" tabindex="0">
<table>
<caption>First model (activity 8) and regularized model, largest gap first</caption>
<thead><tr><th scope="col">Student</th><th scope="col">Training</th><th scope="col">Validation</th>
<th scope="col">Gap</th><th scope="col">Regularized gap</th><th scope="col">Hidden accuracy</th></tr></thead>
<tbody>{% for row in overfitting %}<tr><th scope="row">{{ who(row.student) }}</th>
<td class="n">{{ "%.3f"|format(row.train) }}</td><td class="n">{{ "%.3f"|format(row.validation) }}</td>
<td class="n">{{ "%.3f"|format(row.gap) }}</td>
<td class="n">{{ "%.3f"|format(row.regularized_gap) if row.regularized_gap is not none else "not known" }}</td>
<td class="n">{% if row.hidden is not none %}{{ "%.4f"|format(row.hidden) }}
{%- if row.hidden < threshold.threshold %} (below){% endif %}{% else %}not measured{% endif %}</td></tr>
{% endfor %}</tbody></table></div>
{% else %}<p>No first model's accuracies are known (they are measured for activity 13's comment).</p>{% endif %}
<p class="note">Transfer against the same model trained from scratch is measured for the course's data,
not per student: <code>labkit compare</code>.</p>
</section>

<section id="cost" aria-labelledby="cost-title">
<h2 id="cost-title">Statuses and cost</h2>
<table>
<caption>Statuses</caption>
<thead><tr><th scope="col">Status</th><th scope="col">Students</th><th scope="col">Who</th></tr></thead>
<tbody>{% for status, names in statuses %}<tr><th scope="row">{{ status }}</th><td class="n">{{ names|length }}</td>
<td>{% if status == "ok" %}{{ names|length }} ran to the end{% else %}{{ students(names) }}{% endif %}</td></tr>
{% endfor %}</tbody></table>
<p>Grading time per student (s): {{ time_spread }}; the kernel's peak memory (MB): {{ memory_spread }}
(limit {{ memory_limit }} MB).</p>
{{ picture(pictures.cost, "Figure: grading time and peak memory per student (numbers in the table below)") }}
<div class="wide" role="region" aria-label="Grading time and memory per student" tabindex="0">
<table>
<caption>Grading time and peak memory per student, the slowest first</caption>
<thead><tr><th scope="col">Student</th><th scope="col">Status</th><th scope="col">Seconds</th>
<th scope="col">Peak memory (MB)</th></tr></thead>
<tbody>{% for row in costs %}<tr><th scope="row">{{ who(row.student) }}</th><td>{{ row.status }}</td>
<td class="n">{{ "%.1f"|format(row.seconds) }}</td>
<td class="n">{{ "%.0f"|format(row.peak_memory_mb) if row.peak_memory_mb else "not recorded" }}</td></tr>
{% endfor %}</tbody></table></div>
</section>

<section id="comments" aria-labelledby="comments-title">
<h2 id="comments-title">Activity 13: the written comment</h2>
<p>Suggested scores for {{ comments.assessed }} comments: {{ comments.clear|length }} clear (confirm quickly),
{{ comments.to_read|length }} to read. Suggestions never count: every comment still needs a manual grade
(<code>labkit comments</code> lists them with each student's results).</p>
{% if comments.suggested %}<table>
<caption>Suggested scores</caption>
<thead><tr><th scope="col">Suggested</th><th scope="col">Students</th><th scope="col">Who</th></tr></thead>
<tbody>{% for score, names in comments.suggested %}<tr><th scope="row">{{ "%g"|format(score) }}</th>
<td class="n">{{ names|length }}</td><td>{{ students(names) }}</td></tr>{% endfor %}</tbody></table>{% endif %}
<h3>Copy groups</h3>
{% if comments.copy_groups %}<ul>{% for group in comments.copy_groups %}<li>{{ students(group.students) }}
{%- if group.references %} and {{ group.references|join(", ") }}{% endif %}
 (similarity up to {{ "%.2f"|format(group.similarity) }})</li>
{% endfor %}</ul>{% else %}<p>No comment is a near-copy of another or of a reference text.</p>{% endif %}
<h3>To read before confirming</h3>
{% if comments.to_read %}<div class="wide" role="region" aria-label="Comments to read" tabindex="0"><table>
<thead><tr><th scope="col">Student</th><th scope="col">Why</th></tr></thead>
<tbody>{% for student, why in comments.to_read %}<tr><th scope="row">{{ who(student) }}</th>
<td><ul class="who">{% for line in why %}<li>{{ line }}</li>{% endfor %}</ul></td></tr>{% endfor %}</tbody>
</table></div>{% else %}<p>None.</p>{% endif %}
</section>
</main>
</body>
</html>
"""


def render(**context) -> str:
    from jinja2 import Environment, StrictUndefined

    environment = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return environment.from_string(TEMPLATE).render(**context)
