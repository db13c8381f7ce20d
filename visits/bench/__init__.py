"""`make bench`: a generated agency (``generator``) and what the benchmark needs around the product: a bare view
through the same middleware (``urls``) and the settings that serve it (``settings``). bin/bench drives them."""
