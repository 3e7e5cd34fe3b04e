"""`jstui demo`: the tutorial's programs, brought to life inside jstui's process.

`names` holds what the story is called on a server (the tutorial's names on jstui's own server,
`jstui_demo_<token>_…` on someone else's); `actors` the programs themselves, each a plain nats-py
connection with a name of its own (publisher, requester, replier, workers), exactly as outside
programs would be; `story` creates the stream and the consumers, runs the actors and carries out
the presenter's chaos keys (pause, faster, slower, add or kill a worker, a request now, kill the
server or the stream leader), telling what happened through one callback. Nothing here knows
Textual: the demo app (`jstui.commands.demo_app`) shows it.
"""
