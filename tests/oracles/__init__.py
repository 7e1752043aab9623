"""Test helpers: what symback's results are checked against, and the shared inputs.

- `sympy_oracle`: the independent oracle. sympy's own parser reads the expression text with a
  function table written there (not symback's rule table); exact derivatives are evaluated
  with mpmath at 30 digits.
- `graph_twin`: the sympy twin of symback's parsed graph, built node by node from the rule
  table's sympy spellings (for checks where the text cannot go through sympy's parser, or
  where the same graph is wanted: Jacobians, Hessians).
- `workloads`: the corpus in benchmarks/workloads (the one place it lives) and a random
  expression generator.
"""
