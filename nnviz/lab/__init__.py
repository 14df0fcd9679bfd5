"""What the pages compute, with no UI: attacks, explanations, weight templates, drawing
preprocessing, the default model, the Playground's state and its URL round trip."""
