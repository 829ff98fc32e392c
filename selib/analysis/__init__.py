"""Results out: evaluation, excitation statistics, Grad-CAM, and the statistics of comparisons."""
