"""Networks: the SE-ResNet family, the seed network, SE-Inception, and their cost tables."""
