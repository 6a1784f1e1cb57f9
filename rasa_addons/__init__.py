"""Components loaded by the Rasa server (its own virtual environment), not by the app.

``endpoints.yml`` names them by module path; they import Rasa, so the app never imports them.
"""
