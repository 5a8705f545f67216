"""A user's sequence classifier declared once, and the one forward function every derivative
goes through.

:func:`differentiable_forward` is the single place that decides how a model is run when input
derivatives of any order must pass through it:

- a module that chooses its own path (``uses_fast_path``: :class:`RecurrentClassifier` takes
  its fast ``nn.RNN`` kernels where they can differentiate and its cell loop on CUDA and inside
  ``torch.func``) runs as it is;
- a module with ``forward_twice_differentiable`` (the built-in Transformer and TCN) uses it;
- any other module runs with cuDNN off (cuDNN RNNs cannot double-backward nor backward in eval
  mode) and ``scaled_dot_product_attention`` restricted to the math kernel (the fused flash and
  memory-efficient kernels have no double backward, on CPU either), which also covers
  ``nn.MultiheadAttention`` and ``nn.TransformerEncoder``;
- a plain callable is used unchanged.

Attacks and the training loss need first derivatives only (``order=1``): a module then runs
(with cuDNN off in eval mode, whose RNNs cannot backward there) through its ``forward_fast``
where it declares both paths
(the built-in Transformer's fused attention, :class:`RecurrentClassifier`'s ``nn.RNN``
kernels), else through its own ``forward`` with the fused attention kernels allowed (about six
times faster than the math kernel per attention layer at 427 steps).

:class:`Classifier` adds what a bare module does not say: whether ``forward`` takes
``(x, lengths)`` and what padding means to it. :meth:`Classifier.bind` turns it into an x-only
function for a batch of lengths, at any batch size; :meth:`Classifier.groups` splits data into
equal-length groups, each with its function of the real steps only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Literal

import torch
from torch import Tensor, nn

from seqrobust.models.lengths import (
    Group,
    padding_value,
    second_parameter_optional,
    takes_lengths_from_signature,
)
from seqrobust.types import ForwardFn

PaddingMode = Literal["auto", "trim", "fed"]
Order = Literal[1, 2]
"""The highest order of input derivatives a forward function must allow."""


@contextlib.contextmanager
def second_order_context() -> Iterator[None]:
    """cuDNN off and the math attention kernel: every op then has double backward."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with torch.backends.cudnn.flags(enabled=False), sdpa_kernel([SDPBackend.MATH]):
        yield


def _run(model: nn.Module | Callable[..., Tensor], *args: Tensor, functional: bool = False,
         order: Order = 2) -> Tensor:
    """``model(*args)`` on a path that input derivatives up to ``order`` can go through."""
    if not isinstance(model, nn.Module):
        return model(*args)
    own = getattr(model, "forward_twice_differentiable", None)
    if order == 1 and not functional:
        # a module declaring both paths (the built-ins) offers its fast one for first order
        fast = getattr(model, "forward_fast", None) if callable(own) else None
        # cuDNN RNNs backward in train mode only
        with (contextlib.nullcontext() if model.training
              else torch.backends.cudnn.flags(enabled=False)):
            first: Tensor = fast(*args) if callable(fast) else model(*args)
        return first
    # a module choosing its own path keeps its choice for plain autograd on full-length inputs;
    # torch.func transforms and padded batches (packed sequences have no forward-mode AD) take
    # its twice-differentiable path
    if callable(getattr(model, "uses_fast_path", None)) and not (
            callable(own) and (functional or len(args) > 1)):
        out: Tensor = model(*args)
        return out
    if callable(own):
        out = own(*args)
        return out
    with second_order_context():
        out = model(*args)
    return out


def differentiable_forward(
    model: nn.Module | Callable[[Tensor], Tensor], *, functional: bool = False,
    order: Order = 2,
) -> ForwardFn:
    """A forward function of ``model`` (x only) that input derivatives up to ``order`` and
    eval-mode input gradients can go through, on every device (rules in the module docstring).
    The module's train/eval mode is never changed.

    Args:
        model: a classifier ``(B, T, F) -> (B, L)``: module, :class:`Classifier` (full-length
            inputs) or plain callable.
        functional: the derivatives will go through ``torch.func`` transforms or vmapped
            backward passes (``is_grads_batched``), as in the geometry layer: a module with
            ``forward_twice_differentiable`` then always uses it, even where it would choose
            its fast kernels for plain autograd (attacks, training penalties).
        order: ``1`` when only first derivatives are taken (attacks): the module's
            ``forward_fast`` or ``forward``, cuDNN off; ``2`` (default): any order.

    Returns:
        A callable with the same inputs and outputs.
    """
    if isinstance(model, Classifier):
        return model.bind(None, functional=functional, order=order)
    if not isinstance(model, nn.Module):
        if not callable(model):
            raise ValueError(
                f"model must be an nn.Module or a callable, got {type(model).__name__}")
        return model
    return lambda x: _run(model, x, functional=functional, order=order)


class Classifier(nn.Module):
    """A sequence classifier with its call signature and padding semantics declared.

    Args:
        model: any ``nn.Module`` mapping ``(B, T, F)`` (and, if it takes them, ``(B,)`` lengths)
            to logits ``(B, L)``.
        takes_lengths: whether ``forward`` is ``(x, lengths)``; ``None`` reads it from the
            signature (a second parameter named ``lengths``, ``lens``, ...).
        padding: what the library evaluates on padded, variable-length data.
            ``"fed"``: the padded tensor exactly as the model gets it, with only the real steps
            perturbed (always the user's function). ``"trim"``: each input cut to its real
            steps (faster); allowed only when the logits are unchanged by it (checked, else a
            ``ValueError``). ``"auto"`` (default): ``"trim"`` where that check passes, else
            ``"fed"``.

    Raises:
        ValueError: on a model that is not a module or an unknown padding mode.
    """

    def __init__(
        self, model: nn.Module, *, takes_lengths: bool | None = None, padding: PaddingMode = "auto"
    ) -> None:
        super().__init__()
        if isinstance(model, Classifier):
            raise ValueError("model is already a Classifier")
        if not isinstance(model, nn.Module):
            raise ValueError(f"model must be an nn.Module, got {type(model).__name__}")
        if padding not in ("auto", "trim", "fed"):
            raise ValueError(f"unknown padding {padding!r}; choose auto, trim or fed")
        self.model = model
        self.takes_lengths = (takes_lengths_from_signature(model) if takes_lengths is None
                              else bool(takes_lengths))
        self.padding: PaddingMode = padding
        self._lengths_optional = second_parameter_optional(model)
        for name in ("input_size", "num_classes"):
            if isinstance(getattr(model, name, None), int):
                setattr(self, name, getattr(model, name))

    def _call(self, x: Tensor, lengths: Tensor | None, *, second_order: bool,
              functional: bool = False, order: Order = 2) -> Tensor:
        args: tuple[Tensor, ...] = (x,)
        if self.takes_lengths:
            if lengths is not None:
                args = (x, lengths)
            elif not self._lengths_optional:  # all steps real
                args = (x, torch.full((x.shape[0],), x.shape[1], dtype=torch.long,
                                      device=x.device))
        try:
            if second_order:
                return _run(self.model, *args, functional=functional, order=order)
            out: Tensor = self.model(*args)
            return out
        except TypeError as exc:
            if "positional argument" in str(exc):
                hint = ("takes_lengths=False" if self.takes_lengths else "takes_lengths=True")
                raise ValueError(f"calling the model failed ({exc}); declare "
                                 f"Classifier(model, {hint})") from None
            raise

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The user's model exactly as it is called: logits ``(B, L)`` of ``x`` ``(B, T, F)``
        (``lengths`` ``(B,)`` passed on when it takes them; ``None``: all ``T`` steps)."""
        return self._call(x, lengths, second_order=False)

    def forward_fast(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The same logits as :meth:`forward` on the fastest path that first derivatives go
        through (``differentiable_forward(..., order=1)``): the built-in Transformer's fused
        attention, :class:`RecurrentClassifier`'s ``nn.RNN`` kernels; any other module as it
        is called (cuDNN off in eval mode). The training loop's cross-entropy takes it."""
        return self._call(x, lengths, second_order=True, order=1)

    def bind(self, lengths: Tensor | None, *, steps: int | None = None,
             pad_value: float = 0.0, functional: bool = False, order: Order = 2
             ) -> ForwardFn:
        """An x-only function of the real steps, differentiable up to ``order``.

        Args:
            lengths: ``(n,)`` lengths of the batch it is used on, or ``None`` (full length).
                A batch of ``k·n`` inputs reuses them ``k`` times (estimators stack probes).
            steps: pad inputs with ``pad_value`` up to this many steps before the call
                (``"fed"`` semantics); ``None``: call on the inputs as given.
            pad_value: the constant of the padded steps.
            functional, order: as in :func:`differentiable_forward`.

        Returns:
            ``(B, T', F) -> (B, L)``.
        """
        def forward(z: Tensor) -> Tensor:
            lens = lengths
            if lens is not None:
                size = max(lens.shape[0], 1)
                copies, rest = divmod(z.shape[0], size)
                if rest:
                    raise ValueError(f"expected a multiple of the {size} bound lengths, "
                                     f"got {z.shape[0]} inputs")
                lens = lens.to(z.device).repeat(copies)
            x = z
            if steps is not None and z.shape[1] < steps:
                tail = z.new_full((z.shape[0], steps - z.shape[1], z.shape[2]), pad_value)
                x = torch.cat([z, tail], dim=1)
            return self._call(x, lens, second_order=True, functional=functional, order=order)

        return forward

    def trims_exactly(self, x: Tensor, lengths: Tensor | None, *, n: int = 16
                      ) -> tuple[bool, float]:
        """Whether cutting inputs to their real steps leaves the logits unchanged, on the
        first ``n`` padded inputs of ``x`` ``(N, T, F)`` with ``lengths`` ``(N,)``; returns
        ``(ok, max abs difference)``."""
        if lengths is None:
            return True, 0.0
        lengths = lengths.to(x.device)
        padded = torch.nonzero(lengths < x.shape[1]).squeeze(1)[:n]
        if padded.numel() == 0:
            return True, 0.0
        x, lengths = x[padded], lengths[padded]
        with torch.no_grad():
            full = self(x, lengths)
            worst = 0.0
            for i in range(x.shape[0]):
                cut = self(x[i : i + 1, : int(lengths[i])], lengths[i : i + 1])
                worst = max(worst, float((cut - full[i : i + 1]).abs().max()))
        scale = float(full.abs().max()) + 1.0
        tol = (1e-10 if x.dtype == torch.float64 else 1e-4) * scale
        return worst <= tol, worst

    def resolved_padding(self, x: Tensor, lengths: Tensor | None) -> Literal["trim", "fed"]:
        """The padding mode used on ``x`` with ``lengths`` (``"auto"`` resolved by
        :meth:`trims_exactly`).

        Raises:
            ValueError: ``padding="trim"`` on a model whose logits change when trimmed.
        """
        if lengths is None or self.padding == "fed":
            return "fed"
        ok, diff = self.trims_exactly(x, lengths)
        if ok:
            return "trim"
        if self.padding == "trim":
            raise ValueError(f"padding='trim' changes this model's logits by up to {diff:.3g} "
                             "(it reads the padded steps); use padding='fed'")
        return "fed"

    def groups(self, x: Tensor, lengths: Tensor | None) -> list[Group]:
        """Inputs ``x`` ``(N, T, F)`` with ``lengths`` ``(N,)`` split into equal-length groups,
        each with the model as a function of its real steps (:class:`Group`); one full-length
        group when ``lengths`` is ``None``.

        Raises:
            ValueError: if padded steps fed to the model hold different values, or on
                ``padding="trim"`` for a model that reads its padding.
        """
        n, steps = x.shape[0], x.shape[1]
        if lengths is None:
            return [Group(steps, torch.arange(n), self)] if n else []
        mode = self.resolved_padding(x, lengths)
        pad = padding_value(x, lengths) if mode == "fed" else 0.0
        lengths = lengths.cpu()
        out = []
        for value in torch.unique(lengths):
            length = int(value)
            rows = torch.nonzero(lengths == value).squeeze(1)
            fed = mode == "fed" and length < steps
            out.append(Group(length, rows, self, steps if fed else None, pad))
        return out


def as_classifier(model: nn.Module | Classifier, **options: Any) -> Classifier:
    """``model`` itself if it is a :class:`Classifier`, else ``Classifier(model, **options)``."""
    return model if isinstance(model, Classifier) else Classifier(model, **options)


__all__ = [
    "Classifier", "Group", "Order", "PaddingMode", "as_classifier", "differentiable_forward",
    "padding_value", "second_order_context", "takes_lengths_from_signature",
]
