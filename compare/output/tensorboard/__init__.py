"""output/tensorboard"""
