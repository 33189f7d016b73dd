"""rill-emu: a fast, faithful local emulator of Rill's custom APIs."""

__version__ = "0.1.0"
