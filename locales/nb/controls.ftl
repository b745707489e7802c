# controls
