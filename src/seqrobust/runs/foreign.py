"""A model and data from outside seqrobust, as the command line names them.

``--model FILE.py:FACTORY`` (or ``package.module:FACTORY``) names a callable that returns the
``nn.Module``; ``--weights FILE.safetensors`` its state dict (never a pickle); ``--data
FILE.npz`` (or ``.safetensors``) arrays ``x`` ``(N, T, F)``, ``y`` ``(N,)`` and optionally
``lengths`` ``(N,)``. Every problem is a one-line ``ValueError`` naming the file and the fix.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from seqrobust.data.dataset import SequenceData
from seqrobust.models.classifier import Classifier

PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle")
CONVERT = 'safetensors.torch.save_file(model.state_dict(), "weights.safetensors")'
DATA_KEYS = ("x", "y", "lengths")
_MODULE_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def sha256_file(path: str | Path | None) -> str | None:
    """The SHA-256 of a file's bytes, as 64 hex digits (``None`` for no path or no file)."""
    if path is None or not Path(path).is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _import(spec: str) -> tuple[Any, str, str]:
    """The module object of ``spec``'s left part, that part and the factory name."""
    where, sep, factory = spec.rpartition(":")
    if not sep or not where or not factory:
        raise ValueError(f"--model must be FILE.py:FACTORY or package.module:FACTORY, got "
                         f"{spec!r}")
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise ValueError(f"--model: file {where} not found")
        name = "seqrobust_foreign_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        loader = importlib.util.spec_from_file_location(name, path)
        if loader is None or loader.loader is None:
            raise ValueError(f"--model: cannot import {where} as a Python file")
        module = importlib.util.module_from_spec(loader)
        sys.modules[name] = module
        sys.path.insert(0, str(path.resolve().parent))  # its sibling modules import too
        try:
            loader.loader.exec_module(module)
        except Exception as exc:  # the user's file: any error becomes one line
            del sys.modules[name]
            raise ValueError(f"--model: importing {where} failed ({_why(exc)})") from None
        finally:
            sys.path.remove(str(path.resolve().parent))
        return module, where, factory
    if not _MODULE_NAME.match(where):
        raise ValueError(f"--model: {where!r} is neither a .py file nor a module name; use "
                         "FILE.py:FACTORY or package.module:FACTORY")
    try:
        return importlib.import_module(where), where, factory
    except Exception as exc:  # the user's module: any error becomes one line
        raise ValueError(f"--model: importing module {where} failed ({_why(exc)}); is it "
                         "installed or on PYTHONPATH?") from None


def build_module(spec: str, kwargs: Mapping[str, Any] | None = None) -> nn.Module:
    """Call the factory named by ``spec`` with ``kwargs``; its result must be an ``nn.Module``.

    Raises:
        ValueError: one line naming the file and factory: a malformed spec, a file that is
            missing or raises on import, a missing or non-callable attribute, a factory that
            raises or returns something other than a module.
    """
    module, where, name = _import(spec)
    if not hasattr(module, name):
        raise ValueError(f"--model: {where} has no attribute {name!r}; name the function or "
                         "class that builds the model")
    factory = getattr(module, name)
    if not callable(factory):
        raise ValueError(f"--model: {where}:{name} is not callable (type "
                         f"{type(factory).__name__}); name the function or class that builds "
                         "the model")
    try:
        made = factory(**dict(kwargs or {}))
    except Exception as exc:  # the user's factory: any error becomes one line
        raise ValueError(f"--model: {where}:{name}(**kwargs) raised {_why(exc)}; check "
                         "--model-kwargs") from None
    if not isinstance(made, nn.Module):
        raise ValueError(f"--model: {where}:{name} returned a {type(made).__name__}, not an "
                         "nn.Module")
    return made


def load_weights(module: nn.Module, path: str | Path) -> None:
    """Load a ``.safetensors`` state dict into ``module`` (``strict=True``), checked first.

    Raises:
        ValueError: one line: a pickle or unknown suffix (with how to convert), a missing or
            unreadable file, a non-float or NaN/inf tensor (named), missing or unexpected
            keys, or a shape that differs from the model's.
    """
    from safetensors.torch import load_file

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        raise ValueError(f"--weights {path.name}: {suffix} files are pickles, which seqrobust "
                         f"never loads; convert it once with {CONVERT}")
    if suffix != ".safetensors":
        raise ValueError(f"--weights {path.name}: need a .safetensors file (save it with "
                         f"{CONVERT})")
    if not path.is_file():
        raise ValueError(f"--weights {path} not found")
    try:
        tensors = load_file(str(path))
    except Exception as exc:  # SafetensorError and OS errors alike
        raise ValueError(f"--weights {path.name}: not a readable safetensors file "
                         f"({_why(exc)})") from None
    own = module.state_dict()
    missing, unexpected = sorted(set(own) - set(tensors)), sorted(set(tensors) - set(own))
    if missing or unexpected:
        raise ValueError(f"--weights {path.name} does not match the model: missing keys "
                         f"{missing[:5]}, unexpected keys {unexpected[:5]}")
    for key, value in tensors.items():
        if own[key].is_floating_point() and not value.is_floating_point():
            raise ValueError(f"--weights {path.name}: tensor {key!r} has dtype {value.dtype}; "
                             "save floating-point weights")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            bad = int((~torch.isfinite(value)).sum())
            raise ValueError(f"--weights {path.name}: tensor {key!r} holds {bad} NaN/inf "
                             "values")
        if value.shape != own[key].shape:
            raise ValueError(f"--weights {path.name}: tensor {key!r} has shape "
                             f"{tuple(value.shape)} but the model's is {tuple(own[key].shape)}")
    module.load_state_dict(tensors, strict=True)


def load_foreign_model(
    spec: str,
    *,
    weights: str | Path | None = None,
    kwargs: Mapping[str, Any] | None = None,
    takes_lengths: bool | None = None,
    device: str | torch.device = "cpu",
) -> Classifier:
    """The user's model in eval mode on ``device``, wrapped in a :class:`Classifier`.

    Args:
        spec: ``FILE.py:FACTORY`` or ``package.module:FACTORY``.
        weights: a ``.safetensors`` state dict (``None``: the factory's own parameters).
        kwargs: keyword arguments of the factory.
        takes_lengths: whether ``forward`` is ``(x, lengths)``; ``None`` reads the signature.
        device: where the model goes.

    Returns:
        The classifier.

    Raises:
        ValueError: one line (see :func:`build_module` and :func:`load_weights`).
    """
    module = build_module(spec, kwargs)
    if weights is not None:
        load_weights(module, weights)
    return Classifier(module.to(device), takes_lengths=takes_lengths).eval()


def load_npz_data(
    path: str | Path,
    *,
    bounds: Sequence[float] | None = None,
    unit: str = "model units",
    scale: float = 1.0,
) -> SequenceData:
    """``x``, ``y`` and optional ``lengths`` from an ``.npz`` or ``.safetensors`` file, checked
    by :meth:`SequenceData.from_arrays` (named after the file).

    Raises:
        ValueError: one line naming the file: an unknown suffix, an unreadable file, missing
            or unexpected keys, or any problem of :meth:`SequenceData.from_arrays`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npz", ".safetensors"):
        raise ValueError(f"--data {path.name}: need an .npz or .safetensors file with x, y "
                         "and optionally lengths")
    if not path.is_file():
        raise ValueError(f"--data {path} not found")
    arrays: dict[str, np.ndarray | Tensor]
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        else:
            from safetensors.torch import load_file

            arrays = dict(load_file(str(path)))
    except Exception as exc:  # zip, pickle-refusal and safetensors errors
        why = "no npz of plain arrays: reading it would unpickle" if "pickle" in str(exc) else (
            _why(exc))
        raise ValueError(f"--data {path.name}: cannot read it ({why}); save plain arrays with "
                         "numpy.savez(path, x=x, y=y, lengths=lengths)") from None
    missing = [k for k in ("x", "y") if k not in arrays]
    extra = sorted(set(arrays) - set(DATA_KEYS))
    if missing or extra:
        found = ", ".join(sorted(arrays)) or "none"
        raise ValueError(f"{path.name}: keys {found}; need x (N, T, F), y (N,) and optionally "
                         "lengths (N,), nothing else")
    return SequenceData.from_arrays(arrays["x"], arrays["y"], lengths=arrays.get("lengths"),
                                    bounds=bounds, unit=unit, scale=scale, name=path.name)


def _param_dtype(model: nn.Module) -> torch.dtype | None:
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), None)


def fit_data(model: nn.Module, data: SequenceData, *, where: str) -> SequenceData:
    """``data`` checked against the model's outputs and cast to its parameters' dtype.

    One input goes through the model: its logits must be ``(1, L)``, and the labels must lie
    in ``[0, L)`` (``num_classes`` becomes ``L``).

    Args:
        model: the classifier (eval mode, on its device), called as ``model(x, lengths)``
            (a :class:`Classifier` passes the lengths on only when the model takes them).
        data: the data to measure it on.
        where: how the model is named in messages (``"--model SPEC"``, ``"the run RUN"``).

    Raises:
        ValueError: one line: the forward pass fails, returns other than ``(1, L)`` logits,
            or the labels lie outside ``[0, L)``.
    """
    dtype = _param_dtype(model)
    if dtype is not None and data.inputs.dtype != dtype:
        data = replace(data, inputs=data.inputs.to(dtype))
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    lengths = None if data.lengths is None else data.lengths[:1].to(device)
    try:
        with torch.no_grad():
            logits = model(data.inputs[:1].to(device), lengths)
    except Exception as exc:  # the user's forward: any error becomes one line
        cause = exc.__context__ if isinstance(exc.__context__, TypeError) else exc
        if isinstance(model, Classifier) and "positional argument" in str(cause):
            args, fix = ("(x, lengths)", "drop") if model.takes_lengths else ("x alone", "add")
            raise ValueError(f"{where}: calling its forward with {args} failed ({cause}); "
                             f"{fix} --takes-lengths") from None
        raise ValueError(f"{where} fails on one input of {data.name} ({_why(exc)}); check "
                         "the features it expects") from None
    if not isinstance(logits, Tensor) or logits.dim() != 2 or logits.shape[0] != 1:
        shape = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
        raise ValueError(f"{where} returned {shape} for one input; a classifier "
                         "returns logits (B, classes)")
    classes = int(logits.shape[1])
    high = int(data.labels.max())
    if high >= classes:
        raise ValueError(f"{data.name}: labels must lie in [0, {classes}) (the model's "
                         f"{classes} outputs), found up to {high}; remap them to "
                         f"0..{classes - 1}")
    return replace(data, num_classes=classes)


__all__ = [
    "CONVERT",
    "PICKLE_SUFFIXES",
    "build_module",
    "fit_data",
    "load_foreign_model",
    "load_npz_data",
    "load_weights",
    "sha256_file",
]
