"""Ablation studies: variants x paired seeds, run resumably, compared with confidence intervals."""
