"""Photos in: scan a folder, decode and cache the images, split them, feed batches."""
