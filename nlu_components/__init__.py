"""Custom Rasa NLU components (loaded by the Rasa server from ``config.yml``).

They run in Rasa's virtual environment, so they import only numpy, tokenizers, safetensors
and Rasa itself, never the app's packages.
"""
