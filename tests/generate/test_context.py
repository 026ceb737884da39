from swepipe.generate.context import pointers_for_sample, render_context, render_file
from swepipe.generate.prompting import render, scrub, show_output
from swepipe.types import CodePointer, ExecutionOutput

TEXT = "".join(f"line {n}\n" for n in range(1, 41))


def test_spans_are_widened_merged_and_gaps_marked():
    out = render_file("m.py", TEXT, [(5, 5), (9, 10), (30, 30)], window=2)
    assert out.splitlines() == (["### m.py", "..."] + [f"line {n}" for n in range(3, 13)]
                                + ["..."] + [f"line {n}" for n in range(28, 33)] + ["..."])


def test_line_numbers_are_optional():
    assert render_file("m.py", TEXT, [(1, 1)], window=0, line_numbers=True).splitlines()[1:] == [
        "1 line 1", "..."]


def test_span_pointers_win_over_a_file_pointer_and_a_lone_file_is_shown_whole(tmp_path):
    (tmp_path / "a.py").write_text(TEXT)
    (tmp_path / "b.py").write_text("x = 1\n")
    pointers = [CodePointer(file_path="b.py"), CodePointer(file_path="a.py"),
                CodePointer(file_path="a.py", start_line=20, end_line=20, kind="lines")]
    shown = render_context(pointers, tmp_path, window=1)
    assert shown.files == ["b.py", "a.py"]
    assert shown.text == "### b.py\nx = 1\n\n### a.py\n...\nline 19\nline 20\nline 21\n..."


def test_missing_and_unsafe_paths_are_reported_not_read(tmp_path):
    shown = render_context([CodePointer(file_path="../secret"), CodePointer(file_path="no.py")],
                           tmp_path)
    assert shown.text == "" and shown.missing == ["../secret", "no.py"]


def test_generation_samples_cycle_over_localization_samples():
    pointers = [CodePointer(file_path=f"f{k}.py", sample_idx=k) for k in (0, 2, 5)]
    assert [pointers_for_sample(pointers, i)[0] for i in range(5)] == [0, 2, 5, 0, 2]
    assert pointers_for_sample([], 3) == (0, [])


def test_outputs_shown_to_a_model_do_not_carry_run_specific_text():
    out = ExecutionOutput(exit_code=1, stdout="",
                          stderr='File "/dev/shm/swepipe-sbx-abc123/repo/calc/ops.py", line 3\n'
                                 "<object at 0x7f3a2b1c9d40>")
    shown = show_output(out, timeout_s=5, meaning={1: "crash"})
    assert shown.startswith("exit code 1 (crash)")
    assert 'File "./calc/ops.py"' in shown and "0x7f3a" not in shown
    assert scrub("/tmp/swepipe-sbx-x/home/f") == "~/f"


def test_prompt_placeholders_fill_once_so_issue_text_is_never_expanded():
    text = render("agentless_reproduction", problem_statement="uses {{problem_statement}} {x}")
    assert "uses {{problem_statement}} {x}" in text
