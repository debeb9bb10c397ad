"""The grading kernel's entry point (the `labkit-sandbox` kernelspec runs `python -m` this): ipykernel
as `ipykernel_launcher` starts it, with TensorFlow's start-up pages released at its first import
(autograder.sandbox.library_pages)."""
import sys

if __name__ == "__main__":
    if sys.path[0] == "":   # as ipykernel_launcher: not the working folder's modules first
        del sys.path[0]
    from autograder.sandbox import library_pages

    library_pages.install()
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()
