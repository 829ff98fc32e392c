"""Networks: the SE-ResNet family, the seed network, SE-Inception, and their cost tables."""
from selib.models.inception import se_inception_module, se_inception_net
from selib.models.resnet import (
    residual_block_v1,
    residual_block_v2,
    residual_join,
    se_resnet,
    se_resnet18,
    se_resnet18v2,
    se_resnet34,
    se_resnet34v2,
    se_resnet50,
    se_resnet50v2,
    se_resnet101,
    se_resnet101v2,
    se_resnet152,
    se_resnet152v2,
    stack_residual_blocks,
)
from selib.models.seed import SEED_DEPTH, SEED_OPTIONS, seed_model
from selib.models.weights import WeightsReport, load_weights_by_name

__all__ = [
    "SEED_DEPTH", "SEED_OPTIONS", "WeightsReport", "load_weights_by_name", "residual_block_v1",
    "residual_block_v2", "residual_join", "se_inception_module", "se_inception_net", "se_resnet",
    "se_resnet18", "se_resnet18v2", "se_resnet34", "se_resnet34v2", "se_resnet50",
    "se_resnet50v2", "se_resnet101", "se_resnet101v2", "se_resnet152", "se_resnet152v2",
    "seed_model", "stack_residual_blocks",
]
