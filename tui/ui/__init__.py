"""The Textual app's own parts that are neither widgets nor screens.

`RtApp` (tui.app) is assembled from these: the themes it loads, its keyboard control, its
settings flow and the door to the session it drives. Everything here may import textual; nothing
in the core (config, realtime, audio, session, tools, history, localserver) imports this.
"""
