"""What tests and benchmarks share: real servers on 127.0.0.1 (`s22a serve`, `oxigraph serve`,
the app in a thread), TCP peers that misbehave on purpose, and the app over the seed data."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
