"""Replay of the Douyin scene (brief: "The scene to replay") against a real server."""
