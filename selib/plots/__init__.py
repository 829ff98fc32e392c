"""Figures: data, training and evaluation plots, and the paper's diagrams."""
