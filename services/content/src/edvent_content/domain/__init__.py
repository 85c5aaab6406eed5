"""The content rules: who sees and changes what, what a lesson body must be. No I/O."""
