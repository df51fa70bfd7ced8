"""Hello Anchorworld: crates, a ball and you. Run: anchorworld run games/hello.py (WASD + mouse)."""
from engine import Game

game = Game(seed=1)
game.ground(size=16)
for i in range(5):
    game.box(pos=(i * 1.5 - 3, 0.5, 5), material=("wood_planks", "brick", "stone")[i % 3], physics="dynamic")
ball = game.sphere(pos=(0, 1.5, 8), radius=0.8, material="metal")
game.player(pos=(0, 0, 0))
game.every_tick(lambda g, dt: g.rotate(ball, yaw=45 * dt))
game.run()
