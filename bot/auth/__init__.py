"""Who may do what: staff accounts and sessions, and the customers' conversation tokens.

Staff sign in with a password (``bot.auth.passwords``) and get a server-side session
(``bot.auth.sessions``); customers get a signed token per conversation
(``bot.auth.conversation_tokens``). Nothing here runs at import.
"""
