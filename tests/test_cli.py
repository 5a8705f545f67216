import json

from seqrobust.cli import main


def test_train_evaluate_smoke(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--dataset",
            "mnist-subset",
            "--epochs",
            "1",
            "--hidden",
            "8",
            "--train-limit",
            "200",
            "--test-limit",
            "50",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    assert "test accuracy" in capsys.readouterr().out
    assert (out / "model.safetensors").exists() and (out / "ckpt" / "last.json").exists()
    assert main(["evaluate", str(out), "--limit", "50", "--device", "cpu"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["n"] == 50 and 0.0 <= record["accuracy"] <= 1.0


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "--cell", "foo", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown arch 'foo'") and err.count("\n") == 1
    assert main(["evaluate", str(tmp_path / "missing")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["data", "fetch", "cifar"]) == 2
    assert main(["train", "--no-such-flag"]) == 2
    assert main([]) in (0, 2)


def _commands(typer_app):
    for info in typer_app.registered_commands:
        yield info.callback
    for group in typer_app.registered_groups:
        yield from _commands(group.typer_instance)


def test_help_paragraphs_are_one_line_each(capsys):
    """typer keeps a docstring's line breaks in the command list: every command's paragraphs
    are joined once registered, so ``seqrobust --help`` lists whole sentences."""
    import seqrobust.cli as cli

    assert main(["--help"]) == 0
    callbacks = list(_commands(cli.app))
    assert len(callbacks) >= 15
    for callback in callbacks:
        for paragraph in callback.__doc__.split("\n\n"):
            assert paragraph and "\n" not in paragraph, callback.__name__
    assert "writes CSV, JSON and PNG." in " ".join(capsys.readouterr().out.split())
