"""The synthetic city (营口市; other noise profiles: profile.py): department exports with their manifest and the truth behind them."""
from creditgraph.synth.generate import generate
from creditgraph.synth.rates import Noise, Shape

__all__ = ["generate", "Noise", "Shape"]
