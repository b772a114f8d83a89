"""Flax NNX models, found by name through a registry (importing this module registers them all)."""

from prunejax.models import lenet, mobilenetv2, resnet, vgg, vit  # noqa: F401  (registration)
from prunejax.models.registry import check_model_name, create_model, model_names, register

__all__ = ['check_model_name', 'create_model', 'model_names', 'register']
