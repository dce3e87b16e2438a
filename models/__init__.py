"""Runtime prediction: the LightGBM ratio model, its features, training and the shipped artifact."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.predict import Prediction, predict_runtime

__all__ = ["Prediction", "predict_runtime"]


def __getattr__(name: str) -> Any:
    """Import the predictor on first use (keeps `import models` cheap)."""
    if name in __all__:
        from models import predict

        return getattr(predict, name)
    raise AttributeError(name)
