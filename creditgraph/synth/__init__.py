"""The synthetic city of 营口市: department exports with their manifest and the truth behind them."""
from creditgraph.synth.generate import generate
from creditgraph.synth.rates import Noise, Shape

__all__ = ["generate", "Noise", "Shape"]
